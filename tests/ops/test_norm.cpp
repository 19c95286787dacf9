#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "helpers.h"
#include "kernels/norm.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// Plain double loops over x's values in row-major order (any strides); bias null for RMSNorm.
Tensor norm_loops(const Tensor& x, const Tensor& w, const Tensor* b, double eps) {
  const int64_t C = x.size(-1), rows = x.numel() / C;
  auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> bv = b ? b->to_vector<double>() : std::vector<double>(C, 0.0), y(xv.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    if (b) {
      for (int64_t c = 0; c < C; ++c) mean += xv[r * C + c];
      mean /= C;
    }
    for (int64_t c = 0; c < C; ++c) var += (xv[r * C + c] - mean) * (xv[r * C + c] - mean);
    const double rstd = 1 / std::sqrt(var / C + eps);
    for (int64_t c = 0; c < C; ++c) y[r * C + c] = (xv[r * C + c] - mean) * rstd * wv[c] + bv[c];
  }
  return Tensor::from_vector(y, x.shape());
}

// The same norms composed of primitive differentiable ops (rsqrt(v) = exp(−½·log v)).
Tensor rsqrt_composed(const Tensor& v) { return ops::exp(ops::scale(ops::log(v), -0.5)); }
Tensor rms_norm_composed(const Tensor& x, const Tensor& w, double eps) {
  Tensor rstd = rsqrt_composed(ops::add_scalar(ops::mean(ops::mul(x, x), {-1}, true), eps));
  return ops::mul(ops::mul(x, rstd), w);
}
Tensor layer_norm_composed(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  Tensor xm = ops::sub(x, ops::mean(x, {-1}, true));
  Tensor rstd = rsqrt_composed(ops::add_scalar(ops::mean(ops::mul(xm, xm), {-1}, true), eps));
  return ops::add(ops::mul(ops::mul(xm, rstd), w), b);
}

// Odd shapes, a size-1 row, and a transposed (non-contiguous) view; offset shifts the mean away from 0.
std::vector<Tensor> forward_inputs(Dtype dt, double offset) {
  std::vector<Tensor> xs;
  for (const Shape& s : {Shape{5, 7}, Shape{3, 11, 13}, Shape{2, 1, 5}, Shape{1}})
    xs.push_back(ops::add_scalar(randn(s, 21, dt), offset));
  xs.push_back(ops::transpose(ops::add_scalar(randn({13, 5}, 22, dt), offset), 0, 1));
  REQUIRE_FALSE(xs.back().is_contiguous());
  return xs;
}

}  // namespace

TEST_CASE("rms_norm forward matches double loops", "[ops][norm]") {
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    const double tol = dt == Dtype::f32 ? 2e-6 : 1e-13;
    for (const Tensor& x : forward_inputs(dt, 0.5)) {
      Tensor w = randn({x.size(-1)}, 23, dt);
      Tensor y = ops::rms_norm(x, w, 1e-6);
      REQUIRE(y.shape() == x.shape());
      require_close(y, norm_loops(x, w, nullptr, 1e-6), tol, tol, shape_str(x.shape()));
    }
  }
}

TEST_CASE("rms_norm backward matches the composition of primitive ops", "[ops][norm]") {
  for (bool transposed : {false, true}) {
    Tensor x0 =
        transposed ? ops::transpose(randn({13, 3, 7}, 24, Dtype::f64), 0, 2) : randn({7, 3, 13}, 24, Dtype::f64);
    Tensor x = req(x0), w = req(randn({13}, 25, Dtype::f64));
    Tensor xr = req(ops::clone(x0).detach()), wr = req(ops::clone(w).detach());
    Tensor dy = randn({7, 3, 13}, 26, Dtype::f64);
    autograd::backward({ops::rms_norm(x, w, 1e-5)}, {dy});
    autograd::backward({rms_norm_composed(xr, wr, 1e-5)}, {dy});
    require_close(x.grad(), xr.grad(), 1e-12, 1e-10, "dx");
    require_close(w.grad(), wr.grad(), 1e-12, 1e-10, "dweight");
  }
}

TEST_CASE("rms_norm gradcheck", "[ops][norm]") {
  require_gradcheck([](auto& in) { return ops::rms_norm(in[0], in[1], 1e-5); },
                    {req(randn({5, 7}, 27, Dtype::f64)), req(randn({7}, 28, Dtype::f64))});
}

TEST_CASE("layer_norm forward matches double loops", "[ops][norm]") {
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    for (double offset : {0.0, 300.0}) {
      // f32 at offset 300: x − mean loses up to ulp(300)/2 = 1.5e-5 to the rounding of the saved mean.
      const double tol = dt == Dtype::f64 ? 1e-12 : offset == 0 ? 2e-6 : 1e-4;
      for (const Tensor& x : forward_inputs(dt, offset)) {
        Tensor w = randn({x.size(-1)}, 29, dt), b = randn({x.size(-1)}, 30, dt);
        Tensor y = ops::layer_norm(x, w, b, 1e-6);
        REQUIRE(y.shape() == x.shape());
        require_close(y, norm_loops(x, w, &b, 1e-6), tol, tol, shape_str(x.shape()));
      }
    }
  }
}

TEST_CASE("layer_norm backward matches the composition of primitive ops", "[ops][norm]") {
  for (bool transposed : {false, true}) {
    Tensor x0 = transposed ? ops::transpose(randn({11, 5}, 31, Dtype::f64), 0, 1) : randn({5, 11}, 31, Dtype::f64);
    x0 = ops::add_scalar(x0, 2.0);
    Tensor x = req(x0), w = req(randn({11}, 32, Dtype::f64)), b = req(randn({11}, 33, Dtype::f64));
    Tensor xr = req(ops::clone(x0).detach()), wr = req(ops::clone(w).detach()), br = req(ops::clone(b).detach());
    Tensor dy = randn({5, 11}, 34, Dtype::f64);
    autograd::backward({ops::layer_norm(x, w, b, 1e-5)}, {dy});
    autograd::backward({layer_norm_composed(xr, wr, br, 1e-5)}, {dy});
    require_close(x.grad(), xr.grad(), 1e-12, 1e-10, "dx");
    require_close(w.grad(), wr.grad(), 1e-12, 1e-10, "dweight");
    require_close(b.grad(), br.grad(), 1e-12, 1e-10, "dbias");
  }
}

TEST_CASE("layer_norm gradcheck", "[ops][norm]") {
  require_gradcheck(
      [](auto& in) { return ops::layer_norm(in[0], in[1], in[2], 1e-5); },
      {req(randn({3, 5, 7}, 35, Dtype::f64)), req(randn({7}, 36, Dtype::f64)), req(randn({7}, 37, Dtype::f64))});
}

TEST_CASE("norm backward computes only the gradients asked for", "[ops][norm]") {
  Tensor x = randn({5, 7}, 38, Dtype::f64), w = req(randn({7}, 39, Dtype::f64)), b = randn({7}, 40, Dtype::f64);
  Tensor dy = randn({5, 7}, 41, Dtype::f64);
  autograd::backward({ops::layer_norm(x, w, b, 1e-5)}, {dy});
  Tensor wr = req(ops::clone(w).detach());
  autograd::backward({layer_norm_composed(x, wr, b, 1e-5)}, {dy});
  require_close(w.grad(), wr.grad(), 1e-12, 1e-10, "dweight alone");
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("norm parameter gradients do not depend on the thread count", "[ops][norm]") {
  // 1201 rows: 76 chunks of 16 rows, and enough elements (1201·17 > 2^14) for the kernels to use threads.
  // f64, because f32 sums accumulate in double and rounding to f32 would hide a change of order.
  const Dtype f64 = Dtype::f64;
  Tensor x = randn({1201, 17}, 42, f64), w = randn({17}, 43, f64), b = randn({17}, 44, f64);
  Tensor dy = randn({1201, 17}, 45, f64);
  auto grads_with = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor xr = req(ops::clone(x).detach()), wr = req(ops::clone(w).detach()), br = req(ops::clone(b).detach());
    autograd::backward({ops::layer_norm(xr, wr, br, 1e-6)}, {dy});
    Tensor w2 = req(ops::clone(w).detach());
    autograd::backward({ops::rms_norm(xr.detach(), w2, 1e-6)}, {dy});
    omp_set_num_threads(saved);
    return std::vector<std::vector<double>>{xr.grad().to_vector<double>(), wr.grad().to_vector<double>(),
                                            br.grad().to_vector<double>(), w2.grad().to_vector<double>()};
  };
  auto one = grads_with(1);
  REQUIRE(one == grads_with(3));
  REQUIRE(one == grads_with(4));
}

TEST_CASE("norm kernels write only their outputs (guard bytes)", "[ops][norm]") {
  constexpr int64_t rows = 5, cols = 7, guard = 8;
  const double sentinel = -12345.0;
  auto guarded = [&](int64_t n) { return std::vector<double>(n + 2 * guard, sentinel); };
  auto x = randn({rows, cols}, 46, Dtype::f64).to_vector<double>();
  auto dy = randn({rows, cols}, 47, Dtype::f64).to_vector<double>();
  std::vector<double> w(cols, 1.5), b(cols, 0.25);
  auto y = guarded(rows * cols), mean = guarded(rows), rstd = guarded(rows);
  auto dx = guarded(rows * cols), dw = guarded(cols), db = guarded(cols);
  kernels::cpu::layer_norm_forward(Dtype::f64, x.data(), w.data(), b.data(), y.data() + guard, mean.data() + guard,
                                   rstd.data() + guard, rows, cols, 1e-6);
  kernels::cpu::layer_norm_backward(Dtype::f64, x.data(), w.data(), mean.data() + guard, rstd.data() + guard, dy.data(),
                                    dx.data() + guard, dw.data() + guard, db.data() + guard, rows, cols);
  for (auto* v : {&y, &mean, &rstd, &dx, &dw, &db}) {
    const int64_t n = static_cast<int64_t>(v->size()) - 2 * guard;
    for (int64_t i = 0; i < guard; ++i) {
      REQUIRE((*v)[i] == sentinel);
      REQUIRE((*v)[n + guard + i] == sentinel);
    }
    for (int64_t i = 0; i < n; ++i) REQUIRE((*v)[guard + i] != sentinel);
  }
}

TEST_CASE("norm errors name the op and every operand", "[ops][norm]") {
  Tensor x = randn({4, 8}, 48), w = randn({4}, 49), b = randn({8}, 50);
  REQUIRE_THROWS_WITH(ops::rms_norm(x, w, 1e-6), Catch::Contains("[rms_norm] weight must have shape (8)") &&
                                                     Catch::Contains("x: f32 (4, 8) on cpu") &&
                                                     Catch::Contains("weight: f32 (4) on cpu"));
  REQUIRE_THROWS_WITH(ops::layer_norm(x, b, w, 1e-6), Catch::Contains("[layer_norm] bias must have shape (8)") &&
                                                          Catch::Contains("bias: f32 (4) on cpu"));
  REQUIRE_THROWS_WITH(
      ops::layer_norm(x, randn({8}, 51, Dtype::f64), b, 1e-6),
      Catch::Contains("[layer_norm] operands must have one dtype") && Catch::Contains("weight: f64 (8) on cpu"));
  REQUIRE_THROWS_WITH(
      ops::rms_norm(Tensor::zeros({3, 0}, Dtype::f32), randn({0}, 52), 1e-6),
      Catch::Contains("[rms_norm] x must have a non-empty last dimension") && Catch::Contains("(3, 0)"));
  REQUIRE_THROWS_WITH(ops::rms_norm(x, b, -1.0), Catch::Contains("[rms_norm] eps must be finite and >= 0, got -1"));
}
