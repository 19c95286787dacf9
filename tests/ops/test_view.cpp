#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("contiguous and cast forward", "[ops][view]") {
  Tensor x = randn({3, 4}, 1, Dtype::f64);
  Tensor t = ops::contiguous(ops::transpose(x, 0, 1));
  REQUIRE(t.is_contiguous());
  REQUIRE(t.at({3, 2}) == x.at({2, 3}));
  Tensor b = ops::cast(ops::cast(x, Dtype::bf16), Dtype::f64);
  require_close(b, x, 0, 1.0 / 256);
}

TEST_CASE("view ops backward map gradients back", "[ops][view]") {
  Tensor x = req(randn({2, 3, 4}, 2, Dtype::f64));
  Tensor y = ops::narrow(ops::permute(x, {2, 0, 1}), 0, 1, 2);  // (2, 2, 3) = x[:, :, 1:3] permuted
  autograd::backward(ops::sum(y));
  auto g = x.grad().to_vector<double>();
  for (int64_t i = 0; i < 24; ++i) REQUIRE(g[i] == ((i % 4 == 1 || i % 4 == 2) ? 1.0 : 0.0));
}

TEST_CASE("split returns views that concat back", "[ops][concat]") {
  Tensor a = req(randn({2, 3}, 8, Dtype::f64)), b = req(randn({2, 5}, 9, Dtype::f64));
  Tensor c = ops::concat({a, b}, 1);
  REQUIRE(c.shape() == Shape{2, 8});
  REQUIRE(c.at({1, 4}) == b.at({1, 1}));
  auto parts = ops::split(c, {3, 5}, 1);
  require_close(parts[1], b, 0, 0);
  autograd::backward({c}, {randn({2, 8}, 10, Dtype::f64)});
  REQUIRE(a.grad().shape() == Shape{2, 3});
  require_gradcheck(
      [](auto& in) {
        return ops::concat({in[0], in[1]}, 0);
      },
      {req(randn({2, 3}, 11, Dtype::f64)), req(randn({1, 3}, 12, Dtype::f64))});
}
