#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
// Triple loop in double over at(): the independent reference.
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  int64_t batch = a.ndim() == 3 ? a.size(0) : (b.ndim() == 3 ? b.size(0) : 1);
  Shape s = batch > 1 || a.ndim() == 3 || b.ndim() == 3 ? Shape{batch, M, N} : Shape{M, N};
  std::vector<double> out(batch * M * N);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          double x = a.ndim() == 3 ? a.at({z, i, k}) : a.at({i, k});
          double y = b.ndim() == 3 ? b.at({z, k, j}) : b.at({k, j});
          acc += x * y;
        }
        out[(z * M + i) * N + j] = acc;
      }
  return Tensor::from_vector(out, s);
}
}  // namespace

TEST_CASE("matmul forward matches a triple loop for every transpose combination", "[ops][matmul]") {
  auto dims = GENERATE(std::tuple<int64_t, int64_t, int64_t>{5, 7, 11}, std::tuple<int64_t, int64_t, int64_t>{1, 13, 1},
                       std::tuple<int64_t, int64_t, int64_t>{16, 64, 64});
  auto [M, K, N] = dims;
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  double tol = dtype == Dtype::f32 ? 1e-4 : 1e-12;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = ta ? ops::transpose(randn({3, K, M}, 1, dtype), 1, 2) : randn({3, M, K}, 1, dtype);
      Tensor b = tb ? ops::transpose(randn({3, N, K}, 2, dtype), 1, 2) : randn({3, K, N}, 2, dtype);
      require_close(ops::matmul(a, b), reference_matmul(a, b), tol, tol, "batched");
      Tensor w = tb ? ops::transpose(randn({N, K}, 3, dtype), 0, 1) : randn({K, N}, 3, dtype);
      require_close(ops::matmul(a, w), reference_matmul(a, w), tol, tol, "shared 2-D weight");
    }
}

TEST_CASE("matmul backward equals gᵀ products", "[ops][matmul]") {
  Tensor a = req(randn({4, 3}, 4, Dtype::f64)), b = req(randn({3, 5}, 5, Dtype::f64));
  Tensor g = randn({4, 5}, 6, Dtype::f64);
  autograd::backward({ops::matmul(a, b)}, {g});
  require_close(a.grad(), reference_matmul(g, ops::transpose(b, 0, 1)), 1e-12, 1e-12, "da");
  require_close(b.grad(), reference_matmul(ops::transpose(a, 0, 1), g), 1e-12, 1e-12, "db");
}

TEST_CASE("matmul gradcheck", "[ops][matmul]") {
  require_gradcheck([](auto& in) { return ops::matmul(in[0], in[1]); },
                    {req(randn({2, 3, 4}, 7, Dtype::f64)), req(randn({2, 4, 5}, 8, Dtype::f64))});
  require_gradcheck([](auto& in) { return ops::matmul(in[0], ops::transpose(in[1], 0, 1)); },
                    {req(randn({2, 3, 4}, 9, Dtype::f64)), req(randn({5, 4}, 10, Dtype::f64))});
}

TEST_CASE("linear forward is x · W over the last dimension", "[ops][matmul]") {
  Tensor x = randn({2, 3, 4}, 13, Dtype::f64), w = randn({4, 6}, 14, Dtype::f64);
  Tensor y = ops::linear(x, w);
  REQUIRE(y.shape() == Shape{2, 3, 6});
  for (int64_t b = 0; b < 2; ++b)
    require_close(ops::select(y, 0, b), reference_matmul(ops::select(x, 0, b), w), 1e-12, 1e-12);
}
TEST_CASE("linear backward: dx = dy Wᵀ, dW = sum over rows of xᵀ dy", "[ops][matmul]") {
  Tensor x = req(randn({2, 3, 4}, 15, Dtype::f64)), w = req(randn({4, 6}, 16, Dtype::f64));
  Tensor dy = randn({2, 3, 6}, 17, Dtype::f64);
  autograd::backward({ops::linear(x, w)}, {dy});
  Tensor x2 = ops::reshape(x, {6, 4}), dy2 = ops::reshape(dy, {6, 6});
  require_close(ops::reshape(x.grad(), {6, 4}), reference_matmul(dy2, ops::transpose(w, 0, 1)), 1e-12, 1e-12, "dx");
  require_close(w.grad(), reference_matmul(ops::transpose(x2, 0, 1), dy2), 1e-12, 1e-12, "dw");
}
TEST_CASE("linear gradcheck", "[ops][matmul]") {
  require_gradcheck([](auto& in) { return ops::linear(in[0], in[1]); },
                    {req(randn({2, 3, 4}, 11, Dtype::f64)), req(randn({4, 6}, 12, Dtype::f64))});
}

TEST_CASE("matmul errors name both shapes", "[ops][matmul]") {
  REQUIRE_THROWS_WITH(ops::matmul(randn({2, 3}, 1), randn({4, 5}, 2)),
                      Catch::Contains("[matmul]") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 5)"));
  REQUIRE_THROWS_WITH(ops::matmul(randn({2, 2, 3}, 1), randn({3, 3, 5}, 2)), Catch::Contains("batch"));
}

TEST_CASE("matmul on views whose batch dims have size 1 (a narrow of length 1) uses the real batch step",
          "[ops][matmul]") {
  // (2,3,4,5) narrowed to (2,1,4,5): the size-1 dim keeps stride 20, but batch 1 starts 60 elements on.
  Tensor a4 = randn({2, 3, 4, 5}, 11, Dtype::f64), b4 = randn({2, 3, 5, 6}, 12, Dtype::f64);
  for (int64_t at : {0, 2}) {
    Tensor a = ops::narrow(a4, 1, at, 1), b = ops::narrow(b4, 1, at, 1);
    Tensor got = ops::matmul(a, b);
    Tensor want =
        reference_matmul(ops::reshape(ops::contiguous(a), {2, 4, 5}), ops::reshape(ops::contiguous(b), {2, 5, 6}));
    require_close(ops::reshape(got, {2, 4, 6}), want, 1e-12, 1e-12, "narrow at " + std::to_string(at));
  }
  // Size-1 dims between real batch dims: (2,1,3,4,5) from a narrow of (2,2,3,4,5).
  Tensor a5 = ops::narrow(randn({2, 2, 3, 4, 5}, 13, Dtype::f64), 1, 1, 1);
  Tensor b5 = randn({2, 1, 3, 5, 2}, 14, Dtype::f64);
  Tensor want = reference_matmul(ops::reshape(ops::contiguous(a5), {6, 4, 5}), ops::reshape(b5, {6, 5, 2}));
  require_close(ops::reshape(ops::matmul(a5, b5), {6, 4, 2}), want, 1e-12, 1e-12, "inner size-1 dim");
}
