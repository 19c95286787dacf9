#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/ops/adamw.h"
#include "autograd/ops/copy.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// optax.adamw in double, one element at a time (docs/spec/ttt.md §7).
struct RefAdamW {
  std::vector<double> p, m, v;
  void step(const std::vector<double>& g, const ops::AdamWHyper& h, int64_t t) {
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      double mhat = m[i] / (1 - std::pow(h.beta1, static_cast<double>(t)));
      double vhat = v[i] / (1 - std::pow(h.beta2, static_cast<double>(t)));
      p[i] -= h.lr * (mhat / (std::sqrt(vhat) + h.eps) + h.weight_decay * p[i]);
    }
  }
};

// Runs `steps` updates of a 5x7 parameter in `dtype` against the double reference, with a new gradient
// and a new learning rate each step.
void run_against_reference(Dtype dtype, double tol) {
  Tensor p = randn({5, 7}, 1, dtype), m = Tensor::zeros({5, 7}, dtype), v = Tensor::zeros({5, 7}, dtype);
  RefAdamW ref{p.to_vector<double>(), std::vector<double>(35, 0.0), std::vector<double>(35, 0.0)};
  ops::AdamWHyper h;
  h.beta1 = 0.9;
  h.beta2 = 0.95;
  h.eps = 1e-8;
  h.weight_decay = 0.1;
  for (int64_t t = 1; t <= 6; ++t) {
    h.lr = t == 1 ? 0.0 : 1e-2 / static_cast<double>(t);  // the first optax update has lr 0 (§7)
    Tensor g = randn({5, 7}, 100 + t, dtype, 0.5);
    ref.step(g.to_vector<double>(), h, t);
    ops::adamw_update(p, g, m, v, h, t);
    INFO("step " << t);
    require_close(p, Tensor::from_vector(ref.p, {5, 7}), tol, tol, "param");
    require_close(m, Tensor::from_vector(ref.m, {5, 7}), tol, tol, "m");
    require_close(v, Tensor::from_vector(ref.v, {5, 7}), tol, tol, "v");
  }
}

}  // namespace

TEST_CASE("adamw_update matches a double-precision optax loop over several steps", "[ops][adamw]") {
  SECTION("f64") { run_against_reference(Dtype::f64, 1e-13); }
  SECTION("f32") { run_against_reference(Dtype::f32, 2e-6); }
}

TEST_CASE("adamw_update with lr 0 moves only the moments, and a first step is about lr * sign(g)", "[ops][adamw]") {
  Tensor p = Tensor::full({3}, 1.0, Dtype::f64), m = Tensor::zeros({3}, Dtype::f64), v = Tensor::zeros({3}, Dtype::f64);
  Tensor g = Tensor::from_vector(std::vector<double>{2.0, -0.5, 1e-3}, {3});
  ops::AdamWHyper h;
  h.lr = 0.0;
  ops::adamw_update(p, g, m, v, h, 1);
  REQUIRE(p.to_vector<double>() == std::vector<double>{1, 1, 1});
  REQUIRE(m.at({0}) == Approx(0.2));
  REQUIRE(v.at({1}) == Approx(0.05 * 0.25));
  // Bias correction makes the first step's Adam direction g / |g| (up to eps), plus decoupled decay.
  Tensor p2 = Tensor::full({3}, 1.0, Dtype::f64), m2 = Tensor::zeros({3}, Dtype::f64),
         v2 = Tensor::zeros({3}, Dtype::f64);
  h.lr = 0.01;
  h.weight_decay = 0.0;
  ops::adamw_update(p2, g, m2, v2, h, 1);
  require_close(p2, Tensor::from_vector(std::vector<double>{0.99, 1.01, 0.99}, {3}), 1e-7, 0);
}

TEST_CASE("adamw_update errors name the op and every operand", "[ops][adamw]") {
  Tensor p = Tensor::zeros({4, 3}, Dtype::f32), m = Tensor::zeros({4, 3}, Dtype::f32),
         v = Tensor::zeros({4, 3}, Dtype::f32);
  ops::AdamWHyper h;
  REQUIRE_THROWS_WITH(
      ops::adamw_update(p, Tensor::zeros({3, 4}, Dtype::f32), m, v, h, 1),
      Catch::Contains("[adamw_update]") && Catch::Contains("grad: f32 (3, 4)") && Catch::Contains("param: f32 (4, 3)"));
  REQUIRE_THROWS_WITH(ops::adamw_update(p, p, m, v, h, 0),
                      Catch::Contains("[adamw_update]") && Catch::Contains("got 0"));
  Tensor b = Tensor::zeros({4, 3}, Dtype::bf16);
  REQUIRE_THROWS_WITH(ops::adamw_update(b, b, b, b, h, 1),
                      Catch::Contains("[adamw_update]") && Catch::Contains("bf16"));
}
