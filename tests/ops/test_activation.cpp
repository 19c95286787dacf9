#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// One activation: the op, and an independent double-precision formula for f and f' (written here from
// the textbook definitions, not from kernels/activation.h), plus an input range inside its domain.
struct Case {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> f, df;
  double lo = -4, hi = 4;
};

double sigmoid_ref(double x) { return 0.5 * (1 + std::tanh(0.5 * x)); }
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

Case exp_case() {
  return {"exp", [](auto& x) { return ops::exp(x); }, [](double x) { return std::exp(x); },
          [](double x) { return std::exp(x); }};
}
Case log_case() {
  return {"log",
          [](auto& x) { return ops::log(x); },
          [](double x) { return std::log(x); },
          [](double x) { return 1 / x; },
          0.2,
          5.0};
}
Case sigmoid_case() {
  return {"sigmoid", [](auto& x) { return ops::sigmoid(x); }, sigmoid_ref,
          [](double x) { return sigmoid_ref(x) * sigmoid_ref(-x); }};
}
Case silu_case() {
  return {"silu", [](auto& x) { return ops::silu(x); }, [](double x) { return x * sigmoid_ref(x); },
          [](double x) { return sigmoid_ref(x) + x * sigmoid_ref(x) * sigmoid_ref(-x); }};
}
// The derivative uses the hand-written constants of docs/spec/ttt.md §2.1 (diff_gelu), an independent form.
Case gelu_tanh_case() {
  return {"gelu_tanh", [](auto& x) { return ops::gelu(x); },
          [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); },
          [](double x) {
            double t = std::tanh(0.79788456 * x * (1 + 0.044715 * x * x));
            return 0.5 * x * (1 - t * t) * (0.79788456 + 0.1070322243 * x * x) + 0.5 * (1 + t);
          }};
}
Case gelu_exact_case() {
  return {"gelu_exact", [](auto& x) { return ops::gelu(x, ops::GeluApprox::exact); },
          [](double x) { return x * normal_cdf(x); }, [](double x) { return normal_cdf(x) + x * normal_pdf(x); }};
}
Case softplus_case() {
  return {"softplus",
          [](auto& x) { return ops::softplus(x); },
          [](double x) { return x > 20 ? x : std::log(1 + std::exp(x)); },
          [](double x) { return x > 20 ? 1.0 : sigmoid_ref(x); },
          -6,
          6};
}
Case tanh_case() {
  return {"tanh", [](auto& x) { return ops::tanh(x); }, [](double x) { return std::tanh(x); },
          [](double x) { return 1 / (std::cosh(x) * std::cosh(x)); }};
}
Case square_case() {
  return {"square", [](auto& x) { return ops::square(x); }, [](double x) { return x * x; },
          [](double x) { return 2 * x; }};
}

Case relu_case() {
  return {"relu", [](auto& x) { return ops::relu(x); }, [](double x) { return x > 0 ? x : 0.0; },
          [](double x) { return x > 0 ? 1.0 : 0.0; }};
}

Tensor map_ref(const Tensor& x, const std::function<double(double)>& f) {
  auto v = x.to_vector<double>();
  for (auto& e : v) e = f(e);
  return Tensor::from_vector(v, x.shape());
}

// f32 and f64 outputs against the double formula, on odd shapes and on a transposed (non-contiguous) view.
void check_forward(const Case& c) {
  INFO(c.name);
  for (Dtype dt : {Dtype::f32, Dtype::f64}) {
    Tensor x = randu({5, 7}, 11, c.lo, c.hi, dt);
    double tol = dt == Dtype::f32 ? 2e-6 : 1e-13;
    require_close(c.op(x), map_ref(x, c.f), tol, tol, c.name + " contiguous");
    Tensor xt = ops::transpose(randu({13, 11}, 12, c.lo, c.hi, dt), 0, 1);
    REQUIRE_FALSE(xt.is_contiguous());
    Tensor y = c.op(xt);
    REQUIRE(y.shape() == Shape{11, 13});
    require_close(y, map_ref(xt, c.f), tol, tol, c.name + " transposed");
  }
}

// x.grad of sum(f(x) ⊙ R) must be R ⊙ f'(x).
void check_backward(const Case& c) {
  INFO(c.name);
  Tensor x = req(randu({5, 7, 3}, 13, c.lo, c.hi, Dtype::f64));
  Tensor r = randn({5, 7, 3}, 14, Dtype::f64);
  autograd::backward({c.op(x)}, {r});
  auto xv = x.to_vector<double>(), rv = r.to_vector<double>();
  std::vector<double> want(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) want[i] = rv[i] * c.df(xv[i]);
  // gelu_tanh's reference derivative carries 8-digit constants (docs/spec/ttt.md), hence its looser tolerance.
  double tol = c.name == "gelu_tanh" ? 1e-7 : 1e-12;
  require_close(x.grad(), Tensor::from_vector(want, x.shape()), tol, tol, c.name);
}

void check_gradcheck(const Case& c) {
  INFO(c.name);
  require_gradcheck([&](auto& in) { return c.op(in[0]); }, {req(randu({4, 5}, 15, c.lo, c.hi, Dtype::f64))});
}

}  // namespace

TEST_CASE("exp forward matches std::exp", "[ops][activation]") { check_forward(exp_case()); }
TEST_CASE("exp backward is exp(x)", "[ops][activation]") { check_backward(exp_case()); }
TEST_CASE("exp gradcheck", "[ops][activation]") { check_gradcheck(exp_case()); }

TEST_CASE("log forward matches std::log", "[ops][activation]") { check_forward(log_case()); }
TEST_CASE("log backward is 1/x", "[ops][activation]") { check_backward(log_case()); }
TEST_CASE("log gradcheck", "[ops][activation]") { check_gradcheck(log_case()); }

TEST_CASE("sigmoid forward matches 1/(1+e^-x)", "[ops][activation]") { check_forward(sigmoid_case()); }
TEST_CASE("sigmoid backward is s(1-s)", "[ops][activation]") { check_backward(sigmoid_case()); }
TEST_CASE("sigmoid gradcheck", "[ops][activation]") { check_gradcheck(sigmoid_case()); }

TEST_CASE("silu forward matches x*sigmoid(x)", "[ops][activation]") { check_forward(silu_case()); }
TEST_CASE("silu backward matches the analytic derivative", "[ops][activation]") { check_backward(silu_case()); }
TEST_CASE("silu gradcheck", "[ops][activation]") { check_gradcheck(silu_case()); }

TEST_CASE("gelu forward (tanh approximation) matches the formula", "[ops][activation]") {
  check_forward(gelu_tanh_case());
}
TEST_CASE("gelu backward (tanh approximation) matches diff_gelu of docs/spec/ttt.md", "[ops][activation]") {
  check_backward(gelu_tanh_case());
}
TEST_CASE("gelu gradcheck (tanh approximation)", "[ops][activation]") { check_gradcheck(gelu_tanh_case()); }

TEST_CASE("gelu forward (exact) matches x*Phi(x)", "[ops][activation]") { check_forward(gelu_exact_case()); }
TEST_CASE("gelu backward (exact) is Phi(x) + x*phi(x)", "[ops][activation]") { check_backward(gelu_exact_case()); }
TEST_CASE("gelu gradcheck (exact)", "[ops][activation]") { check_gradcheck(gelu_exact_case()); }

TEST_CASE("softplus forward matches log(1+e^x)", "[ops][activation]") { check_forward(softplus_case()); }
TEST_CASE("softplus backward is sigmoid(x)", "[ops][activation]") { check_backward(softplus_case()); }
TEST_CASE("softplus gradcheck", "[ops][activation]") { check_gradcheck(softplus_case()); }

TEST_CASE("tanh forward matches std::tanh", "[ops][activation]") { check_forward(tanh_case()); }
TEST_CASE("tanh backward is 1/cosh^2", "[ops][activation]") { check_backward(tanh_case()); }
TEST_CASE("tanh gradcheck", "[ops][activation]") { check_gradcheck(tanh_case()); }

TEST_CASE("square forward matches x*x", "[ops][activation]") { check_forward(square_case()); }
TEST_CASE("square backward is 2x", "[ops][activation]") { check_backward(square_case()); }
TEST_CASE("square gradcheck", "[ops][activation]") { check_gradcheck(square_case()); }
TEST_CASE("relu forward matches max(0, x)", "[ops][activation]") { check_forward(relu_case()); }
TEST_CASE("relu backward is the step function", "[ops][activation]") { check_backward(relu_case()); }
TEST_CASE("relu gradcheck", "[ops][activation]") { check_gradcheck(relu_case()); }

TEST_CASE("softplus follows PyTorch's threshold of 20 and does not overflow", "[ops][activation]") {
  Tensor x = Tensor::from_vector(std::vector<float>{-80, -30, 19.5f, 20, 20.5f, 100}, {6});
  auto y = ops::softplus(x).to_vector<double>();
  REQUIRE(y[0] == Approx(std::exp(-80.0)).epsilon(1e-5));  // still a normal f32
  REQUIRE(y[1] == Approx(std::exp(-30.0)).epsilon(1e-5));
  REQUIRE(y[2] == Approx(std::log1p(std::exp(19.5))).epsilon(1e-7));
  REQUIRE(y[3] == Approx(std::log1p(std::exp(20.0))).epsilon(1e-7));  // 20 is not above the threshold
  REQUIRE(y[4] == 20.5);
  REQUIRE(y[5] == 100.0);
  Tensor xg = req(Tensor::from_vector(std::vector<double>{-3, 25}, {2}));
  autograd::backward(ops::sum(ops::softplus(xg)));
  auto g = xg.grad().to_vector<double>();
  REQUIRE(g[0] == Approx(sigmoid_ref(-3)).epsilon(1e-14));
  REQUIRE(g[1] == 1.0);
}

TEST_CASE("sigmoid, silu and gelu saturate without NaN at large |x|", "[ops][activation]") {
  Tensor x = req(Tensor::from_vector(std::vector<double>{-800, -40, 40, 800}, {4}));
  for (auto op : {ops::sigmoid, ops::silu, ops::tanh}) {
    Tensor y = op(x);
    autograd::backward(ops::sum(y));
    for (double v : y.to_vector<double>()) REQUIRE(std::isfinite(v));
    for (double v : x.grad().to_vector<double>()) REQUIRE(std::isfinite(v));
    x.set_grad(Tensor());
  }
  REQUIRE(ops::gelu(x).to_vector<double>() == std::vector<double>{-0.0, -0.0, 40, 800});
}

TEST_CASE("activation kernels write exactly n elements (guard bytes)", "[ops][activation]") {
  constexpr int64_t n = 13, guard = 8;
  const float sentinel = -12345.f;
  std::vector<float> x(n), dy(n, 1.f), y(n + 2 * guard, sentinel), dx(n + 2 * guard, sentinel);
  for (int64_t i = 0; i < n; ++i) x[i] = 0.25f * static_cast<float>(i) - 1.f;
  kernels::cpu::unary_forward(kernels::Activation::gelu_tanh, Dtype::f32, x.data(), y.data() + guard, n);
  kernels::cpu::unary_backward(kernels::Activation::silu, Dtype::f32, x.data(), dy.data(), dx.data() + guard, n);
  for (int64_t i = 0; i < guard; ++i) {
    REQUIRE(y[i] == sentinel);
    REQUIRE(y[n + guard + i] == sentinel);
    REQUIRE(dx[i] == sentinel);
    REQUIRE(dx[n + guard + i] == sentinel);
  }
  REQUIRE(y[guard + 4] == 0.f);    // gelu(0) = 0
  REQUIRE(dx[guard + 4] == 0.5f);  // silu'(0) = 1/2
}

TEST_CASE("activation errors name the op and the operand", "[ops][activation]") {
  Tensor i = Tensor::zeros({3, 2}, Dtype::i64);
  REQUIRE_THROWS_WITH(ops::silu(i), Catch::Contains("[silu]") && Catch::Contains("i64 (3, 2)"));
  REQUIRE_THROWS_WITH(ops::gelu(i, ops::GeluApprox::exact), Catch::Contains("[gelu_exact]"));
  REQUIRE_THROWS_WITH(ops::exp(Tensor()), Catch::Contains("[exp] x is an undefined tensor"));
}
