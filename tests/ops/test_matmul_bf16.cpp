// ops::linear_bf16: bf16 inputs, f32 accumulation, f32 result (docs/precision.md). Bounds, for each output
// element with S = Σ_k |x_k|·|w_k| (the sum of absolute products):
//   against an f64 product of the bf16-rounded operands: |err| <= 1e-5·S  (f32 accumulation only);
//   against the f32 product of the unrounded operands:   |err| <= 2^-7·S  (two bf16 roundings of
//   relative error <= 2^-9 each per product, so 2^-8·S, doubled for margin).
// The same bounds hold for the two gradient products (g·wᵀ and xᵀ·g, g rounded to bf16 as well).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/matmul_bf16.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

Tensor round_bf16(const Tensor& t) { return ops::cast(ops::cast(t, Dtype::bf16), Dtype::f32); }

// f64 a (M, K) · b (K, N) and Σ|a||b|, from at() (any strides).
void reference(const Tensor& a, const Tensor& b, std::vector<double>& out, std::vector<double>& abs_sum) {
  int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  out.assign(M * N, 0);
  abs_sum.assign(M * N, 0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) {
        double p = a.at({i, k}) * b.at({k, j});
        out[i * N + j] += p;
        abs_sum[i * N + j] += std::abs(p);
      }
}

// The number of elements of got (M, N) outside |got - want| <= rel·S.
int violations(const Tensor& got, const Tensor& a, const Tensor& b, double rel) {
  std::vector<double> want, s;
  reference(a, b, want, s);
  std::vector<double> g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - want[i]) <= rel * s[i])) ++bad;
  return bad;
}

constexpr double kTight = 1e-5, kVsF32 = 1.0 / 128;

}  // namespace

TEST_CASE("linear_bf16 forward equals an f64 product of the bf16-rounded operands", "[ops][linear_bf16]") {
  auto dims =
      GENERATE(std::tuple<int64_t, int64_t, int64_t>{5, 7, 11}, std::tuple<int64_t, int64_t, int64_t>{64, 256, 96},
               std::tuple<int64_t, int64_t, int64_t>{33, 768, 17});
  auto [M, K, N] = dims;
  for (bool tw : {false, true}) {
    Tensor x = randn({M, K}, 1);
    Tensor w = tw ? ops::transpose(randn({N, K}, 2), 0, 1) : randn({K, N}, 2);  // the LM head reads a transposed view
    Tensor w16 = tw ? ops::transpose(ops::cast(randn({N, K}, 2), Dtype::bf16), 0, 1) : ops::cast(w, Dtype::bf16);
    Tensor y = ops::linear_bf16(x, w, w16);
    REQUIRE(y.dtype() == Dtype::f32);
    INFO("M K N " << M << " " << K << " " << N << " transposed weight " << tw);
    CHECK(violations(y, round_bf16(x), round_bf16(w), kTight) == 0);
    CHECK(violations(y, x, w, kVsF32) == 0);
    // The tight bound can fail: the f32 product of the unrounded operands breaks it.
    if (K >= 256) CHECK(violations(ops::matmul(x, w), round_bf16(x), round_bf16(w), kTight) > 0);
  }
}

TEST_CASE("linear_bf16 forward keeps leading dims and reads the bf16 copy, not the f32 weight", "[ops][linear_bf16]") {
  Tensor x = randn({2, 3, 16}, 3), w = randn({16, 8}, 4);
  Tensor y = ops::linear_bf16(x, w, ops::cast(w, Dtype::bf16));
  REQUIRE(shape_str(y.shape()) == shape_str(Shape{2, 3, 8}));
  require_close(ops::reshape(y, {6, 8}), ops::linear_bf16(ops::reshape(x, {6, 16}), w, ops::cast(w, Dtype::bf16)), 0,
                0);
  // A stale copy changes the result: the op multiplies by the copy it is given.
  Tensor other = ops::cast(randn({16, 8}, 5), Dtype::bf16);
  Tensor z = ops::linear_bf16(x, w, other);
  CHECK(violations(ops::reshape(z, {6, 8}), round_bf16(ops::reshape(x, {6, 16})), ops::cast(other, Dtype::f32),
                   kTight) == 0);
  CHECK_THROWS(ops::linear_bf16(x, w, w));                                          // copy not bf16
  CHECK_THROWS(ops::linear_bf16(x, w, ops::cast(randn({8, 16}, 6), Dtype::bf16)));  // shape differs
}

TEST_CASE("linear_bf16 backward: gradients are bf16 products within the bound of the f32 op's", "[ops][linear_bf16]") {
  const int64_t M = 48, K = 384, N = 80;
  Tensor x = req(randn({M, K}, 7)), w = req(randn({K, N}, 8));
  Tensor g = randn({M, N}, 9);
  autograd::backward({ops::linear_bf16(x, w, ops::cast(w, Dtype::bf16))}, {g});
  Tensor x32 = req(ops::clone(x.detach())), w32 = req(ops::clone(w.detach()));
  autograd::backward({ops::matmul(x32, w32)}, {g});
  REQUIRE(x.grad().dtype() == Dtype::f32);
  REQUIRE(w.grad().dtype() == Dtype::f32);
  // Against the f32 op's gradients: gx = g·wᵀ, gw = xᵀ·g with every operand unrounded.
  CHECK(violations(x.grad(), g, ops::transpose(w.detach(), 0, 1), kVsF32) == 0);
  CHECK(violations(w.grad(), ops::transpose(x.detach(), 0, 1), g, kVsF32) == 0);
  // ... and they do differ from the f32 op's (the products really ran in bf16).
  double diff = 0;
  auto a = x.grad().to_vector<double>(), b = x32.grad().to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i]));
  CHECK(diff > 0);
}

TEST_CASE("linear_bf16 gradcheck: backward equals f64 products of the bf16-rounded operands", "[ops][linear_bf16]") {
  // A finite-difference check cannot apply (rounding makes the op piecewise constant in its inputs); the
  // exact gradient of the product of the rounded operands is checked instead, to f32 accumulation.
  const int64_t M = 24, K = 200, N = 40;
  Tensor x = req(randn({2, M / 2, K}, 10)), w = req(randn({K, N}, 11));
  Tensor g = randn({2, M / 2, N}, 12);
  autograd::backward({ops::linear_bf16(x, w, ops::cast(w, Dtype::bf16))}, {g});
  Tensor x2 = ops::reshape(x.detach(), {M, K}), g2 = ops::reshape(g, {M, N});
  CHECK(violations(ops::reshape(x.grad(), {M, K}), round_bf16(g2), ops::transpose(round_bf16(w.detach()), 0, 1),
                   kTight) == 0);
  CHECK(violations(w.grad(), ops::transpose(round_bf16(x2), 0, 1), round_bf16(g2), kTight) == 0);
  // The tied head's transposed weight view passes its gradient back through the view.
  Tensor e = req(randn({N, K}, 13));
  Tensor h = randn({M, K}, 14), gh = randn({M, N}, 15);
  autograd::backward(
      {ops::linear_bf16(h, ops::transpose(e, 0, 1), ops::transpose(ops::cast(e.detach(), Dtype::bf16), 0, 1))}, {gh});
  CHECK(violations(e.grad(), ops::transpose(round_bf16(gh), 0, 1), round_bf16(h), kTight) == 0);
}
