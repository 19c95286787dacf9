#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/ops/mask.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// x with every (i, j) of the last two dims where j - i > diagonal replaced by value.
Tensor reference_mask(const Tensor& x, int64_t diagonal, double value) {
  const int64_t R = x.size(-2), C = x.size(-1);
  auto v = x.to_vector<double>();
  for (size_t n = 0; n < v.size(); ++n) {
    int64_t j = static_cast<int64_t>(n) % C, i = (static_cast<int64_t>(n) / C) % R;
    if (j - i > diagonal) v[n] = value;
  }
  return Tensor::from_vector(v, x.shape());
}

}  // namespace

TEST_CASE("tril forward keeps the lower triangle", "[ops][mask]") {
  auto diagonal = GENERATE(-2, -1, 0, 1, 3);
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  Tensor x = randn({2, 5, 7}, 1, dtype);
  require_close(ops::tril(x, diagonal), reference_mask(x, diagonal, 0.0), 0, 0);
  Tensor sq = randn({7, 7}, 2, dtype);
  require_close(ops::tril(sq, diagonal), reference_mask(sq, diagonal, 0.0), 0, 0);
}

TEST_CASE("tril forward: diagonal 0 keeps the diagonal, far diagonals keep all or nothing", "[ops][mask]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  REQUIRE(ops::tril(x).to_vector<double>() == std::vector<double>{1, 0, 0, 4, 5, 0, 7, 8, 9});
  REQUIRE(ops::tril(x, 1000).to_vector<double>() == x.to_vector<double>());
  REQUIRE(ops::tril(x, -1000).to_vector<double>() == std::vector<double>(9, 0.0));
}

TEST_CASE("masked_fill_upper forward fills above the diagonal", "[ops][mask]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = ops::transpose(randn({3, 11, 13}, 3), 1, 2);  // (3, 13, 11), non-contiguous
  REQUIRE_FALSE(x.is_contiguous());
  Tensor y = ops::masked_fill_upper(x, -inf);
  auto yv = y.to_vector<double>(), want = reference_mask(x, 0, -inf).to_vector<double>();
  for (size_t n = 0; n < yv.size(); ++n) {
    INFO("element " << n);
    REQUIRE((std::isinf(want[n]) ? yv[n] == -inf : yv[n] == want[n]));
  }
  require_close(ops::masked_fill_upper(x, 2.5, 1), reference_mask(x, 1, 2.5), 0, 0);
}

TEST_CASE("tril backward masks the gradient", "[ops][mask]") {
  auto diagonal = GENERATE(-1, 0, 2);
  Tensor x = req(randn({2, 5, 7}, 4, Dtype::f64));
  Tensor dy = randn({2, 5, 7}, 5, Dtype::f64);
  autograd::backward({ops::tril(x, diagonal)}, {dy});
  require_close(x.grad(), reference_mask(dy, diagonal, 0.0), 0, 0, "tril");
}

TEST_CASE("masked_fill_upper backward masks the gradient", "[ops][mask]") {
  auto diagonal = GENERATE(-1, 0, 2);
  Tensor dy = randn({2, 5, 7}, 5, Dtype::f64);
  Tensor x2 = req(randn({2, 5, 7}, 6, Dtype::f64));
  autograd::backward({ops::masked_fill_upper(x2, -std::numeric_limits<double>::infinity(), diagonal)}, {dy});
  require_close(x2.grad(), reference_mask(dy, diagonal, 0.0), 0, 0, "masked_fill_upper");
}

TEST_CASE("tril gradcheck", "[ops][mask]") {
  require_gradcheck([](auto& in) { return ops::tril(in[0], 1); }, {req(randn({2, 4, 5}, 7, Dtype::f64))});
}
TEST_CASE("masked_fill_upper gradcheck", "[ops][mask]") {
  require_gradcheck([](auto& in) { return ops::masked_fill_upper(in[0], -3.0, -1); },
                    {req(randn({5, 4}, 8, Dtype::f64))});
}

TEST_CASE("mask errors name the op and the tensor", "[ops][mask]") {
  REQUIRE_THROWS_WITH(ops::tril(randn({7}, 9)), Catch::Contains("[tril]") && Catch::Contains("f32 (7)"));
  REQUIRE_THROWS_WITH(ops::masked_fill_upper(randn({7}, 9), 0.0),
                      Catch::Contains("[masked_fill_upper]") && Catch::Contains("(..., R, C)"));
}
