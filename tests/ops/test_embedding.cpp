#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

Tensor ids_tensor(const std::vector<int64_t>& ids, const Shape& shape, Dtype dtype) {
  if (dtype == Dtype::i64) return Tensor::from_vector(ids, shape);
  return Tensor::from_vector(std::vector<int32_t>(ids.begin(), ids.end()), shape);
}

// Pseudo-random ids in [0, V) with many repeats.
std::vector<int64_t> some_ids(int64_t n, int64_t V, uint64_t seed) {
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(philox::uniform(seed, 5, i) * V);
  return ids;
}

}  // namespace

TEST_CASE("embedding forward gathers rows", "[ops][embedding]") {
  auto id_dtype = GENERATE(Dtype::i32, Dtype::i64);
  Tensor w = randn({11, 7}, 1);
  std::vector<int64_t> ids = {3, 0, 10, 3, 5, 5, 1, 9, 2, 10, 0, 4, 6, 8, 7};
  Tensor y = ops::embedding(w, ids_tensor(ids, {3, 5}, id_dtype));
  REQUIRE(y.shape() == Shape{3, 5, 7});
  for (int64_t n = 0; n < 15; ++n)
    for (int64_t c = 0; c < 7; ++c) REQUIRE(y.at({n / 5, n % 5, c}) == w.at({ids[n], c}));
}

TEST_CASE("embedding forward accepts non-contiguous ids and weight", "[ops][embedding]") {
  Tensor w = ops::transpose(randn({5, 13}, 2), 0, 1);                                      // (13, 5), strided
  Tensor ids = ops::transpose(ids_tensor({1, 12, 0, 7, 3, 3}, {2, 3}, Dtype::i64), 0, 1);  // (3, 2)
  REQUIRE_FALSE(ids.is_contiguous());
  Tensor y = ops::embedding(w, ids);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t c = 0; c < 5; ++c) REQUIRE(y.at({i, j, c}) == w.at({static_cast<int64_t>(ids.at({i, j})), c}));
}

TEST_CASE("embedding backward scatter-adds in token order, bit for bit", "[ops][embedding]") {
  auto id_dtype = GENERATE(Dtype::i32, Dtype::i64);
  const int64_t V = 13, C = 5, N = 2000;
  std::vector<int64_t> ids = some_ids(N, V, 3);
  Tensor w = req(randn({V, C}, 4));
  Tensor dy = randn({4, N / 4, C}, 5);
  autograd::backward({ops::embedding(w, ids_tensor(ids, {4, N / 4}, id_dtype))}, {dy});
  // The kernel promises sums in double in increasing token order, rounded once: that is exactly this.
  std::vector<double> want(V * C, 0.0);
  auto g = dy.to_vector<double>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) want[ids[n] * C + c] += g[n * C + c];
  std::vector<float> want_f(want.begin(), want.end());
  REQUIRE(w.grad().to_vector<float>() == want_f);
}

TEST_CASE("embedding backward gives zero rows to unused ids", "[ops][embedding]") {
  Tensor w = req(randn({6, 3}, 6, Dtype::f64));
  autograd::backward({ops::embedding(w, ids_tensor({4, 1, 4}, {3}, Dtype::i64))},
                     {Tensor::full({3, 3}, 1.0, Dtype::f64)});
  std::vector<double> want(18, 0.0);
  for (int c = 0; c < 3; ++c) {
    want[4 * 3 + c] = 2.0;
    want[1 * 3 + c] = 1.0;
  }
  REQUIRE(w.grad().to_vector<double>() == want);
}

TEST_CASE("embedding gradcheck", "[ops][embedding]") {
  Tensor ids = ids_tensor({2, 0, 2, 4, 1, 2, 0}, {7}, Dtype::i32);
  require_gradcheck([ids](auto& in) { return ops::embedding(in[0], ids); }, {req(randn({5, 3}, 7, Dtype::f64))});
}

TEST_CASE("embedding errors name the bad position and value", "[ops][embedding]") {
  Tensor w = randn({50, 4}, 8);
  REQUIRE_THROWS_WITH(ops::embedding(w, ids_tensor({0, 1, 2, 3, 4, 57}, {2, 3}, Dtype::i64)),
                      Catch::Contains("[embedding]") && Catch::Contains("ids[1, 2] = 57") &&
                          Catch::Contains("[0, 50)") && Catch::Contains("(50, 4)"));
  REQUIRE_THROWS_WITH(ops::embedding(w, ids_tensor({0, -1}, {2}, Dtype::i32)), Catch::Contains("ids[1] = -1"));
  REQUIRE_THROWS_WITH(ops::embedding(w, randn({3}, 9)),
                      Catch::Contains("[embedding]") && Catch::Contains("i32 or i64") && Catch::Contains("f32 (3)"));
}
