#include <omp.h>

#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

struct ConvShape {
  int64_t B, T, C, K;
};

// docs/spec/ttt.md §2.1 written out with at(): y[b,t,c] = bias[c] + sum_k w[k,c] x[b, t-K+1+k, c].
Tensor reference_conv(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), K = w.size(0);
  std::vector<double> y(B * T * C);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) {
        double s = bias.at({c});
        for (int64_t k = 0; k < K; ++k) {
          int64_t src = t - K + 1 + k;
          if (src >= 0) s += w.at({k, c}) * x.at({b, src, c});
        }
        y[(b * T + t) * C + c] = s;
      }
  return Tensor::from_vector(y, {B, T, C});
}

// Gradients of sum(y * dy) by the adjoint of the loops above.
void reference_conv_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), K = w.size(0);
  std::vector<double> gx(B * T * C, 0.0), gw(K * C, 0.0), gb(C, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) {
        double g = dy.at({b, t, c});
        gb[c] += g;
        for (int64_t k = 0; k < K; ++k) {
          int64_t src = t - K + 1 + k;
          if (src < 0) continue;
          gw[k * C + c] += g * x.at({b, src, c});
          gx[(b * T + src) * C + c] += g * w.at({k, c});
        }
      }
  dx = Tensor::from_vector(gx, {B, T, C});
  dw = Tensor::from_vector(gw, {K, C});
  db = Tensor::from_vector(gb, {C});
}

}  // namespace

TEST_CASE("causal_conv1d forward matches the spec's formula", "[ops][conv]") {
  auto s = GENERATE(ConvShape{2, 7, 5, 4}, ConvShape{1, 13, 11, 1}, ConvShape{3, 5, 7, 6}, ConvShape{2, 11, 1, 3});
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  Tensor x = randn({s.B, s.T, s.C}, 1, dtype), w = randn({s.K, s.C}, 2, dtype), b = randn({s.C}, 3, dtype);
  double tol = dtype == Dtype::f32 ? 1e-5 : 1e-13;
  require_close(ops::causal_conv1d(x, w, b), reference_conv(x, w, b), tol, tol);
}

TEST_CASE("causal_conv1d forward: weight[K-1] multiplies the current token", "[ops][conv]") {
  // x = impulse at t = 2; with weight rows (1, 10, 100) the output is 100 at t = 2, 10 at t = 3, 1 at t = 4.
  std::vector<double> xv(6, 0.0);
  xv[2] = 1.0;
  Tensor x = Tensor::from_vector(xv, {1, 6, 1});
  Tensor w = Tensor::from_vector(std::vector<double>{1, 10, 100}, {3, 1});
  Tensor b = Tensor::from_vector(std::vector<double>{0.5}, {1});
  REQUIRE(ops::causal_conv1d(x, w, b).to_vector<double>() == std::vector<double>{0.5, 0.5, 100.5, 10.5, 1.5, 0.5});
}

TEST_CASE("causal_conv1d forward accepts a non-contiguous x", "[ops][conv]") {
  Tensor xt = randn({2, 5, 9}, 4);  // (B, C, T)
  Tensor x = ops::transpose(xt, 1, 2);
  REQUIRE_FALSE(x.is_contiguous());
  Tensor w = randn({4, 5}, 5), b = randn({5}, 6);
  require_close(ops::causal_conv1d(x, w, b), reference_conv(x, w, b), 1e-5, 1e-5);
}

TEST_CASE("causal_conv1d backward matches the adjoint loops", "[ops][conv]") {
  // T = 200 rows per sequence, B*T = 600 rows: several fixed row blocks in the weight gradient.
  auto s = GENERATE(ConvShape{2, 7, 5, 4}, ConvShape{3, 200, 13, 4}, ConvShape{1, 3, 7, 5});
  Tensor x = req(randn({s.B, s.T, s.C}, 7, Dtype::f64)), w = req(randn({s.K, s.C}, 8, Dtype::f64)),
         b = req(randn({s.C}, 9, Dtype::f64));
  Tensor dy = randn({s.B, s.T, s.C}, 10, Dtype::f64);
  autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
  Tensor dx, dw, db;
  reference_conv_backward(x, w, dy, dx, dw, db);
  require_close(x.grad(), dx, 1e-12, 1e-12, "dx");
  require_close(w.grad(), dw, 1e-12, 1e-12, "dweight");
  require_close(b.grad(), db, 1e-12, 1e-12, "dbias");
}

TEST_CASE("causal_conv1d backward is bitwise repeatable and skips unneeded gradients", "[ops][conv]") {
  Tensor x = randn({4, 300, 11}, 11), w = req(randn({4, 11}, 12)), b = randn({11}, 13);
  Tensor dy = randn({4, 300, 11}, 14);
  autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
  auto first = w.grad().to_vector<float>();
  w.set_grad(Tensor());
  autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
  REQUIRE(w.grad().to_vector<float>() == first);
  REQUIRE_FALSE(x.grad().defined());
  REQUIRE_FALSE(b.grad().defined());
}

TEST_CASE("causal_conv1d backward gives the same bits on 1 and 3 threads", "[ops][conv]") {
  Tensor x = req(randn({3, 700, 13}, 18)), w = req(randn({4, 13}, 19)), b = req(randn({13}, 20));
  Tensor dy = randn({3, 700, 13}, 21);
  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> grads[2];
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    for (Tensor* t : {&x, &w, &b}) t->set_grad(Tensor());
    autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
    grads[threads == 3].push_back(x.grad().to_vector<float>());
    grads[threads == 3].push_back(w.grad().to_vector<float>());
    grads[threads == 3].push_back(b.grad().to_vector<float>());
  }
  omp_set_num_threads(saved);
  REQUIRE(grads[0] == grads[1]);
}

TEST_CASE("causal_conv1d gradcheck", "[ops][conv]") {
  require_gradcheck(
      [](auto& in) { return ops::causal_conv1d(in[0], in[1], in[2]); },
      {req(randn({2, 5, 3}, 15, Dtype::f64)), req(randn({3, 3}, 16, Dtype::f64)), req(randn({3}, 17, Dtype::f64))});
}

TEST_CASE("causal_conv1d errors name the op and every operand", "[ops][conv]") {
  Tensor x = randn({2, 5, 3}, 1), w = randn({4, 6}, 2), b = randn({3}, 3);
  REQUIRE_THROWS_WITH(ops::causal_conv1d(x, w, b), Catch::Contains("[causal_conv1d]") && Catch::Contains("(2, 5, 3)") &&
                                                       Catch::Contains("(4, 6)") && Catch::Contains("(3)"));
  Tensor w64 = randn({4, 3}, 4, Dtype::f64);
  REQUIRE_THROWS_WITH(ops::causal_conv1d(x, w64, b),
                      Catch::Contains("[causal_conv1d]") && Catch::Contains("f64 (4, 3)"));
}
