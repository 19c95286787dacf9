#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/softmax.h"
#include "autograd/ops/view.h"
#include "helpers.h"
#include "kernels/softmax.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// Plain double loops over x's rows (any strides): softmax, or log_softmax when log is set.
Tensor softmax_loops(const Tensor& x, bool log) {
  const int64_t V = x.size(-1), rows = x.numel() / V;
  auto v = x.to_vector<double>();
  for (int64_t r = 0; r < rows; ++r) {
    double* row = v.data() + r * V;
    double m = row[0], s = 0;
    for (int64_t c = 0; c < V; ++c) m = std::max(m, row[c]);
    for (int64_t c = 0; c < V; ++c) s += std::exp(row[c] - m);
    for (int64_t c = 0; c < V; ++c) row[c] = log ? row[c] - m - std::log(s) : std::exp(row[c] - m) / s;
  }
  return Tensor::from_vector(v, x.shape());
}

Tensor cross_entropy_loops(const Tensor& logits, const std::vector<int64_t>& targets) {
  Tensor lsm = softmax_loops(logits, true);
  const int64_t V = logits.size(-1);
  auto l = lsm.to_vector<double>();
  std::vector<double> loss(targets.size());
  for (size_t r = 0; r < targets.size(); ++r) loss[r] = targets[r] == -1 ? 0.0 : -l[r * V + targets[r]];
  return Tensor::from_vector(loss, Shape(logits.shape().begin(), logits.shape().end() - 1));
}

// The same functions composed of primitive differentiable ops (small inputs, so exp does not overflow).
Tensor softmax_composed(const Tensor& x) { return ops::div(ops::exp(x), ops::sum(ops::exp(x), {-1}, true)); }
Tensor log_softmax_composed(const Tensor& x) { return ops::sub(x, ops::log(ops::sum(ops::exp(x), {-1}, true))); }

// Odd shapes, a one-element row, a transposed (non-contiguous) view, and large logits that would overflow
// exp without the max subtraction.
std::vector<Tensor> forward_inputs(Dtype dt) {
  std::vector<Tensor> xs{randn({5, 7}, 61, dt), randn({3, 4, 13}, 62, dt), randn({2, 1}, 63, dt),
                         ops::affine(randn({11}, 64, dt), 40.0, 500.0)};
  xs.push_back(ops::transpose(randn({11, 5}, 65, dt), 0, 1));
  REQUIRE_FALSE(xs.back().is_contiguous());
  return xs;
}

Tensor targets_i64(const std::vector<int64_t>& t, const Shape& s) { return Tensor::from_vector(t, s); }

void check_softmax_backward(bool log) {
  for (bool transposed : {false, true}) {
    Tensor x0 = transposed ? ops::transpose(randn({7, 3, 5}, 66, Dtype::f64), 0, 2) : randn({5, 3, 7}, 66, Dtype::f64);
    Tensor x = req(x0), xr = req(ops::clone(x0).detach());
    Tensor dy = randn({5, 3, 7}, 67, Dtype::f64);
    autograd::backward({log ? ops::log_softmax(x) : ops::softmax(x)}, {dy});
    autograd::backward({log ? log_softmax_composed(xr) : softmax_composed(xr)}, {dy});
    require_close(x.grad(), xr.grad(), 1e-13, 1e-11, transposed ? "transposed" : "contiguous");
  }
}

}  // namespace

TEST_CASE("softmax forward matches double loops", "[ops][softmax]") {
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    const double tol = dt == Dtype::f32 ? 1e-6 : 1e-14;
    for (const Tensor& x : forward_inputs(dt)) {
      Tensor y = ops::softmax(x);
      REQUIRE(y.shape() == x.shape());
      require_close(y, softmax_loops(x, false), tol, tol, shape_str(x.shape()));
    }
  }
}
TEST_CASE("softmax backward matches the composition of primitive ops", "[ops][softmax]") {
  check_softmax_backward(false);
}
TEST_CASE("softmax gradcheck", "[ops][softmax]") {
  require_gradcheck([](auto& in) { return ops::softmax(in[0]); }, {req(randn({3, 7}, 68, Dtype::f64))});
}

TEST_CASE("log_softmax forward matches double loops", "[ops][softmax]") {
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    const double tol = dt == Dtype::f32 ? 2e-6 : 1e-13;
    for (const Tensor& x : forward_inputs(dt)) {
      Tensor y = ops::log_softmax(x, x.ndim() - 1);
      REQUIRE(y.shape() == x.shape());
      require_close(y, softmax_loops(x, true), tol, tol, shape_str(x.shape()));
    }
  }
}
TEST_CASE("log_softmax backward matches the composition of primitive ops", "[ops][softmax]") {
  check_softmax_backward(true);
}
TEST_CASE("log_softmax gradcheck", "[ops][softmax]") {
  require_gradcheck([](auto& in) { return ops::log_softmax(in[0]); }, {req(randn({3, 7}, 69, Dtype::f64))});
}

TEST_CASE("cross_entropy forward matches double loops and the composed reference", "[ops][softmax]") {
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    const double tol = dt == Dtype::f32 ? 2e-6 : 1e-13;
    // Large logits: without the max subtraction exp(500) would overflow.
    Tensor logits = ops::affine(randn({3, 4, 13}, 70, dt), 30.0, 500.0);
    std::vector<int64_t> t{0, 12, -1, 5, 7, 3, -1, 11, 1, 2, 9, 6};
    Tensor loss = ops::cross_entropy(logits, targets_i64(t, {3, 4}));
    REQUIRE(loss.dtype() == dt);
    REQUIRE(loss.shape() == Shape{3, 4});
    require_close(loss, cross_entropy_loops(logits, t), tol, tol, "fused vs loops");
    require_close(ops::cross_entropy_reference(logits, targets_i64(t, {3, 4})), cross_entropy_loops(logits, t), tol,
                  tol, "reference vs loops");
    REQUIRE(loss.at({0, 2}) == 0.0);  // ignored
    // i32 targets and a transposed (non-contiguous) logits view give the same losses.
    Tensor lt = ops::transpose(ops::affine(randn({7, 5}, 71, dt), 3.0, 0.0), 0, 1);
    std::vector<int32_t> t32{6, -1, 0, 3, 2};
    std::vector<int64_t> t64(t32.begin(), t32.end());
    require_close(ops::cross_entropy(lt, Tensor::from_vector(t32, {5})), cross_entropy_loops(lt, t64), tol, tol,
                  "i32 targets, transposed logits");
    // One position: logits (V), a scalar target, a scalar loss.
    Tensor l1 = randn({7}, 79, dt);
    Tensor loss1 = ops::cross_entropy(l1, Tensor::from_vector(std::vector<int64_t>{3}, {}));
    REQUIRE(loss1.shape() == Shape{});
    require_close(loss1, cross_entropy_loops(l1, {3}), tol, tol, "scalar target");
  }
}

TEST_CASE("cross_entropy backward matches the composed reference", "[ops][softmax]") {
  for (bool transposed : {false, true}) {
    Tensor x0 =
        transposed ? ops::transpose(randn({11, 2, 5}, 72, Dtype::f64), 0, 2) : randn({5, 2, 11}, 72, Dtype::f64);
    Tensor x = req(x0), xr = req(ops::clone(x0).detach());
    Tensor t = targets_i64({3, -1, 10, 0, -1, 7, 2, 2, 9, 4}, {5, 2});
    Tensor dloss = randn({5, 2}, 73, Dtype::f64);
    Tensor loss = ops::cross_entropy(x, t), ref = ops::cross_entropy_reference(xr, t);
    require_close(loss, ref, 1e-13, 1e-12, "forward");
    autograd::backward({loss}, {dloss});
    autograd::backward({ref}, {dloss});
    require_close(x.grad(), xr.grad(), 1e-13, 1e-11, "dlogits");
    for (int64_t v = 0; v < 11; ++v) {  // ignored positions (0, 1) and (2, 0) get exactly zero gradient
      REQUIRE(x.grad().at({0, 1, v}) == 0.0);
      REQUIRE(x.grad().at({2, 0, v}) == 0.0);
    }
  }
}

TEST_CASE("cross_entropy gradcheck", "[ops][softmax]") {
  Tensor t = Tensor::from_vector(std::vector<int32_t>{4, -1, 0, 6, 2}, {5});
  require_gradcheck([&](auto& in) { return ops::cross_entropy(in[0], in[1]); },
                    {req(randn({5, 7}, 74, Dtype::f64)), t});
}

TEST_CASE("softmax kernels write only their outputs (guard bytes)", "[ops][softmax]") {
  constexpr int64_t rows = 3, cols = 5, guard = 8;
  const double sentinel = -12345.0;
  auto guarded = [&](int64_t n) { return std::vector<double>(n + 2 * guard, sentinel); };
  auto x = randn({rows, cols}, 75, Dtype::f64).to_vector<double>();
  std::vector<int64_t> t{1, -1, 4};
  std::vector<double> dloss{0.5, 2.0, -1.0};
  auto y = guarded(rows * cols), dx = guarded(rows * cols), loss = guarded(rows), lse = guarded(rows);
  auto dlogits = guarded(rows * cols);
  kernels::cpu::softmax_forward(kernels::SoftmaxKind::log_softmax, Dtype::f64, x.data(), y.data() + guard, rows, cols);
  kernels::cpu::softmax_backward(kernels::SoftmaxKind::log_softmax, Dtype::f64, y.data() + guard, x.data(),
                                 dx.data() + guard, rows, cols);
  kernels::cpu::cross_entropy_forward(Dtype::f64, x.data(), Dtype::i64, t.data(), loss.data() + guard,
                                      lse.data() + guard, rows, cols);
  kernels::cpu::cross_entropy_backward(Dtype::f64, x.data(), Dtype::i64, t.data(), lse.data() + guard, dloss.data(),
                                       dlogits.data() + guard, rows, cols);
  for (auto* v : {&y, &dx, &loss, &lse, &dlogits}) {
    const int64_t n = static_cast<int64_t>(v->size()) - 2 * guard;
    for (int64_t i = 0; i < guard; ++i) {
      REQUIRE((*v)[i] == sentinel);
      REQUIRE((*v)[n + guard + i] == sentinel);
    }
    for (int64_t i = 0; i < n; ++i) REQUIRE((*v)[guard + i] != sentinel);
  }
  REQUIRE(loss[guard + 1] == 0.0);
}

TEST_CASE("softmax and cross_entropy errors name the op, the operands and bad targets", "[ops][softmax]") {
  Tensor x = randn({3, 4, 5}, 76);
  REQUIRE_THROWS_WITH(ops::softmax(x, 0), Catch::Contains("[softmax] only the last dimension is supported") &&
                                              Catch::Contains("got dim 0 for x: f32 (3, 4, 5) on cpu"));
  REQUIRE_THROWS_WITH(ops::log_softmax(x, 1), Catch::Contains("[log_softmax] only the last dimension"));
  REQUIRE_THROWS_WITH(ops::softmax(x, 3), Catch::Contains("[softmax]"));
  Tensor logits = randn({2, 3, 7}, 77);
  Tensor bad = targets_i64({0, 1, 2, 3, 7, 5}, {2, 3});
  REQUIRE_THROWS_WITH(ops::cross_entropy(logits, bad),
                      Catch::Contains("[cross_entropy] target 7 at position (1, 1) is outside [-1, 7)") &&
                          Catch::Contains("logits: f32 (2, 3, 7) on cpu") && Catch::Contains("targets: i64 (2, 3)"));
  REQUIRE_THROWS_WITH(ops::cross_entropy(logits, targets_i64({0, -2, 2, 3, 4, 5}, {2, 3})),
                      Catch::Contains("target -2 at position (0, 1)"));
  REQUIRE_THROWS_WITH(ops::cross_entropy_reference(logits, bad), Catch::Contains("[cross_entropy_reference] target 7"));
  REQUIRE_THROWS_WITH(
      ops::cross_entropy(logits, targets_i64({0, 1, 2}, {3})),
      Catch::Contains("[cross_entropy] targets must have shape (2, 3)") && Catch::Contains("targets: i64 (3) on cpu"));
  REQUIRE_THROWS_WITH(ops::cross_entropy(logits, randn({2, 3}, 78)),
                      Catch::Contains("[cross_entropy] targets must be i32 or i64") && Catch::Contains("f32 (2, 3)"));
}

TEST_CASE("a NaN logit makes its row NaN in softmax, log_softmax and cross_entropy (CPU)", "[ops][softmax]") {
  for (int64_t V : {13, 1000})
    for (int64_t at : {int64_t(0), V / 2, V - 1}) {
      INFO("V " << V << " NaN at " << at);
      Tensor x = randn({3, V}, 90);
      static_cast<float*>(x.data_ptr())[V + at] = std::numeric_limits<float>::quiet_NaN();
      auto row_nan = [&](const Tensor& y, const char* what) {
        INFO(what);
        auto v = y.to_vector<double>();
        const int64_t cols = y.numel() / 3;
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t c = 0; c < cols; ++c) REQUIRE(std::isnan(v[r * cols + c]) == (r == 1));
      };
      row_nan(ops::softmax(x), "softmax");
      row_nan(ops::log_softmax(x), "log_softmax");
      row_nan(ops::cross_entropy(x, targets_i64({1, 2, 3}, {3})), "cross_entropy");
    }
}
