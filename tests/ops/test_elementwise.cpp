#include <catch2/catch.hpp>

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

TEST_CASE("add, sub, mul, div forward broadcast like numpy", "[ops][elementwise]") {
  auto shapes = GENERATE(std::pair<Shape, Shape>{{5, 7}, {5, 7}}, std::pair<Shape, Shape>{{5, 7}, {7}},
                         std::pair<Shape, Shape>{{11, 1, 3}, {1, 13, 3}}, std::pair<Shape, Shape>{{}, {4, 2}},
                         std::pair<Shape, Shape>{{2, 3, 1}, {1}});
  Tensor a = randn(shapes.first, 1), b = randu(shapes.second, 2, 0.5, 2.0);
  require_close(ops::add(a, b), reference_binary(a, b, '+'), 1e-6, 1e-6, "add");
  require_close(ops::sub(a, b), reference_binary(a, b, '-'), 1e-6, 1e-6, "sub");
  require_close(ops::mul(a, b), reference_binary(a, b, '*'), 1e-6, 1e-6, "mul");
  require_close(ops::div(a, b), reference_binary(a, b, '/'), 1e-6, 1e-6, "div");
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
TEST_CASE("affine forward, backward and gradcheck", "[ops][elementwise]") {
  Tensor x = req(randn({5, 3}, 17, Dtype::f64));
  Tensor y = ops::affine(x, -2.5, 0.75);
  auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) REQUIRE(yv[i] == Approx(-2.5 * xv[i] + 0.75));
  autograd::backward(ops::sum(y));
  require_close(x.grad(), Tensor::full({5, 3}, -2.5, Dtype::f64), 0, 0);
  require_gradcheck([](auto& in) { return ops::affine(in[0], 3.0, 1.0); }, {req(randn({4}, 18, Dtype::f64))});
}

TEST_CASE("elementwise errors name the op and both operands", "[ops][elementwise]") {
  Tensor a = randn({2, 3}, 1), b = randn({4}, 2);
  REQUIRE_THROWS_WITH(ops::add(a, b), Catch::Contains("[add]") && Catch::Contains("(2, 3)") && Catch::Contains("(4)"));
  Tensor c = randn({2, 3}, 3, Dtype::f64);
  REQUIRE_THROWS_WITH(ops::mul(a, c), Catch::Contains("[mul]") && Catch::Contains("f32 (2, 3)") && Catch::Contains("f64 (2, 3)"));
}
