#include <catch2/catch.hpp>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
// Reference broadcasting binary op written with at(): independent of the kernels' strided iteration.
Tensor reference_binary(const Tensor& a, const Tensor& b, char op) {
  Shape s = broadcast_shapes(a.shape(), b.shape(), "ref");
  std::vector<double> out(shape_numel(s));
  std::vector<int64_t> idx(s.size(), 0);
  for (size_t n = 0; n < out.size(); ++n) {
    int64_t rem = static_cast<int64_t>(n);
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      idx[d] = rem % s[d];
      rem /= s[d];
    }
    auto pick = [&](const Tensor& t) {
      std::vector<int64_t> i(t.ndim());
      for (int64_t d = 0; d < t.ndim(); ++d) {
        int64_t sd = d + static_cast<int64_t>(s.size()) - t.ndim();
        i[d] = t.shape()[d] == 1 ? 0 : idx[sd];
      }
      return t.at(i);
    };
    double x = pick(a), y = pick(b);
    out[n] = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
  }
  return Tensor::from_vector(out, s);
}
}  // namespace

namespace {
void check_binary_forward(char op, const std::function<Tensor(const Tensor&, const Tensor&)>& f) {
  const std::pair<Shape, Shape> shapes[] = {
      {{5, 7}, {5, 7}}, {{5, 7}, {7}}, {{11, 1, 3}, {1, 13, 3}}, {{}, {4, 2}}, {{2, 3, 1}, {1}}};
  for (const auto& [sa, sb] : shapes) {
    Tensor a = randn(sa, 1), b = randu(sb, 2, 0.5, 2.0);
    require_close(f(a, b), reference_binary(a, b, op), 1e-6, 1e-6, shape_str(sa) + " op " + shape_str(sb));
  }
}
// dL/da and dL/db for L = sum(dy * f(a, b)), from the analytic partial derivatives, reduced by hand.
void check_binary_backward(const std::function<Tensor(const Tensor&, const Tensor&)>& f,
                           const std::function<double(double, double)>& da,
                           const std::function<double(double, double)>& db) {
  Tensor a = req(randn({4, 3}, 31, Dtype::f64)), b = req(randu({3}, 32, 0.5, 2.0, Dtype::f64));
  Tensor dy = randn({4, 3}, 33, Dtype::f64);
  autograd::backward({f(a, b)}, {dy});
  std::vector<double> ga(12), gb(3, 0.0);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      double x = a.at({i, j}), y = b.at({j}), g = dy.at({i, j});
      ga[i * 3 + j] = g * da(x, y);
      gb[j] += g * db(x, y);
    }
  require_close(a.grad(), Tensor::from_vector(ga, {4, 3}), 1e-12, 1e-12, "da");
  require_close(b.grad(), Tensor::from_vector(gb, {3}), 1e-12, 1e-12, "db");
}
}  // namespace

TEST_CASE("add forward broadcasts like numpy", "[ops][elementwise]") { check_binary_forward('+', ops::add); }
TEST_CASE("sub forward broadcasts like numpy", "[ops][elementwise]") { check_binary_forward('-', ops::sub); }
TEST_CASE("mul forward broadcasts like numpy", "[ops][elementwise]") { check_binary_forward('*', ops::mul); }
TEST_CASE("div forward broadcasts like numpy", "[ops][elementwise]") { check_binary_forward('/', ops::div); }
TEST_CASE("sub backward: da = dy, db = -sum(dy)", "[ops][elementwise]") {
  check_binary_backward(
      ops::sub, [](double, double) { return 1.0; }, [](double, double) { return -1.0; });
}
TEST_CASE("div backward: da = dy/b, db = -sum(dy a/b^2)", "[ops][elementwise]") {
  check_binary_backward(
      ops::div, [](double, double y) { return 1.0 / y; }, [](double x, double y) { return -x / (y * y); });
}

TEST_CASE("elementwise ops accept non-contiguous views", "[ops][elementwise]") {
  Tensor a = randn({6, 4}, 3), b = randn({4, 6}, 4);
  Tensor bt = ops::transpose(b, 0, 1);
  REQUIRE_FALSE(bt.is_contiguous());
  require_close(ops::mul(a, bt), reference_binary(a, bt, '*'), 1e-6, 1e-6);
}

TEST_CASE("add backward reduces broadcast gradients", "[ops][elementwise]") {
  Tensor a = req(randn({3, 4}, 5, Dtype::f64)), b = req(randn({4}, 6, Dtype::f64));
  autograd::backward(ops::sum(ops::add(a, b)));
  require_close(a.grad(), Tensor::full({3, 4}, 1.0, Dtype::f64), 0, 0);
  require_close(b.grad(), Tensor::full({4}, 3.0, Dtype::f64), 0, 0);
}

TEST_CASE("mul backward equals the other operand", "[ops][elementwise]") {
  Tensor a = req(randn({3, 4}, 7, Dtype::f64)), b = req(randn({3, 4}, 8, Dtype::f64));
  autograd::backward(ops::sum(ops::mul(a, b)));
  require_close(a.grad(), b, 0, 0);
  require_close(b.grad(), a, 0, 0);
}

TEST_CASE("add gradcheck", "[ops][elementwise]") {
  require_gradcheck([](auto& in) { return ops::add(in[0], in[1]); },
                    {req(randn({3, 1, 4}, 9, Dtype::f64)), req(randn({5, 1}, 10, Dtype::f64))});
}
TEST_CASE("sub gradcheck", "[ops][elementwise]") {
  require_gradcheck([](auto& in) { return ops::sub(in[0], in[1]); },
                    {req(randn({2, 5}, 11, Dtype::f64)), req(randn({5}, 12, Dtype::f64))});
}
TEST_CASE("mul gradcheck", "[ops][elementwise]") {
  require_gradcheck([](auto& in) { return ops::mul(in[0], in[1]); },
                    {req(randn({7, 3}, 13, Dtype::f64)), req(randn({7, 1}, 14, Dtype::f64))});
}
TEST_CASE("div gradcheck", "[ops][elementwise]") {
  require_gradcheck([](auto& in) { return ops::div(in[0], in[1]); },
                    {req(randn({4, 3}, 15, Dtype::f64)), req(randu({3}, 16, 0.5, 2.0, Dtype::f64))});
}
TEST_CASE("affine forward is alpha x + beta", "[ops][elementwise]") {
  Tensor x = randn({5, 3}, 17, Dtype::f64);
  Tensor y = ops::affine(x, -2.5, 0.75);
  auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) REQUIRE(yv[i] == Approx(-2.5 * xv[i] + 0.75));
}
TEST_CASE("affine backward is alpha dy", "[ops][elementwise]") {
  Tensor x = req(randn({5, 3}, 17, Dtype::f64));
  Tensor dy = randn({5, 3}, 19, Dtype::f64);
  autograd::backward({ops::affine(x, -2.5, 0.75)}, {dy});
  auto dv = dy.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (size_t i = 0; i < dv.size(); ++i) REQUIRE(gv[i] == Approx(-2.5 * dv[i]));
}
TEST_CASE("affine gradcheck", "[ops][elementwise]") {
  require_gradcheck([](auto& in) { return ops::affine(in[0], 3.0, 1.0); }, {req(randn({4}, 18, Dtype::f64))});
}

TEST_CASE("elementwise errors name the op and both operands", "[ops][elementwise]") {
  Tensor a = randn({2, 3}, 1), b = randn({4}, 2);
  REQUIRE_THROWS_WITH(ops::add(a, b), Catch::Contains("[add]") && Catch::Contains("(2, 3)") && Catch::Contains("(4)"));
  Tensor c = randn({2, 3}, 3, Dtype::f64);
  REQUIRE_THROWS_WITH(ops::mul(a, c),
                      Catch::Contains("[mul]") && Catch::Contains("f32 (2, 3)") && Catch::Contains("f64 (2, 3)"));
}
