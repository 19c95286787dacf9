#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/cumsum.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// Inclusive (or, reverse, suffix) sums along dim, in double over at().
Tensor reference_cumsum(const Tensor& x, int64_t dim, bool reverse = false) {
  const Shape& s = x.shape();
  std::vector<double> y(x.numel());
  std::vector<int64_t> idx(s.size());
  for (int64_t n = 0; n < x.numel(); ++n) {
    int64_t rem = n;
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      idx[d] = rem % s[d];
      rem /= s[d];
    }
    double acc = 0;
    const int64_t j = idx[dim];
    for (int64_t q = reverse ? j : 0; q < (reverse ? s[dim] : j + 1); ++q) {
      auto k = idx;
      k[dim] = q;
      acc += x.at(k);
    }
    y[n] = acc;
  }
  return Tensor::from_vector(y, s);
}

}  // namespace

TEST_CASE("cumsum forward along each dimension", "[ops][cumsum]") {
  auto dim = GENERATE(0, 1, 2, -1);
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  Tensor x = randn({5, 7, 3}, 1, dtype);
  int64_t d = dim < 0 ? dim + 3 : dim;
  double tol = dtype == Dtype::f32 ? 1e-5 : 1e-13;
  require_close(ops::cumsum(x, dim), reference_cumsum(x, d), tol, tol);
}

TEST_CASE("cumsum forward on a non-contiguous view and a 1-D tensor", "[ops][cumsum]") {
  Tensor x = ops::transpose(randn({11, 13}, 2), 0, 1);
  REQUIRE_FALSE(x.is_contiguous());
  require_close(ops::cumsum(x, 1), reference_cumsum(x, 1), 1e-5, 1e-5);
  Tensor v = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {4});
  REQUIRE(ops::cumsum(v, 0).to_vector<double>() == std::vector<double>{1, 3, 6, 10});
}

TEST_CASE("cumsum backward is the reverse cumsum of the gradient", "[ops][cumsum]") {
  auto dim = GENERATE(0, 1, 2);
  Tensor x = req(randn({5, 7, 3}, 3, Dtype::f64));
  Tensor dy = randn({5, 7, 3}, 4, Dtype::f64);
  autograd::backward({ops::cumsum(x, dim)}, {dy});
  require_close(x.grad(), reference_cumsum(dy, dim, true), 1e-13, 1e-13);
}

TEST_CASE("cumsum gradcheck", "[ops][cumsum]") {
  require_gradcheck([](auto& in) { return ops::cumsum(in[0], 1); }, {req(randn({3, 5, 2}, 5, Dtype::f64))});
}

TEST_CASE("cumsum errors name the op and the tensor", "[ops][cumsum]") {
  REQUIRE_THROWS_WITH(ops::cumsum(randn({2, 3}, 6), 2), Catch::Contains("[cumsum]") && Catch::Contains("rank 2"));
  Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 2}, {2});
  REQUIRE_THROWS_WITH(ops::cumsum(ids, 0), Catch::Contains("[cumsum]") && Catch::Contains("i64 (2)"));
}
