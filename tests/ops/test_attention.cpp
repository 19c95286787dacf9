// Fused causal attention against its naive reference (f64 loops over the full probability matrix), forward
// and backward, over sizes around the CPU kernel's 64-row tiles; gradchecks of both; causality,
// thread-count invariance, strided inputs and error messages.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/attention.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

struct Grads {
  Tensor out, dq, dk, dv;
};

// Output and input gradients of fn for the upstream gradient dout.
template <class Fn>
Grads run_with_grads(Fn fn, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dout) {
  Tensor qr = req(ops::clone(q).detach()), kr = req(ops::clone(k).detach()), vr = req(ops::clone(v).detach());
  Tensor out = fn(qr, kr, vr);
  autograd::backward({out}, {dout});
  return {out.detach(), qr.grad(), kr.grad(), vr.grad()};
}

Tensor fused(const Tensor& q, const Tensor& k, const Tensor& v) {
  return ops::causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(q.size(3))));
}
Tensor reference(const Tensor& q, const Tensor& k, const Tensor& v) {
  return ops::causal_attention_reference(q, k, v, 1.0 / std::sqrt(static_cast<double>(q.size(3))));
}

double tol_of(Dtype d) { return d == Dtype::f64 ? 1e-12 : 2e-5; }

}  // namespace

TEST_CASE("causal_attention_reference averages the visible values when all scores are equal", "[ops][attention]") {
  // k = 0 makes every score 0, so o[t] = mean(v[0..t]): a check of the reference that needs no softmax.
  Tensor q = randn({1, 2, 5, 3}, 1, Dtype::f64), k = Tensor::zeros({1, 2, 5, 3}, Dtype::f64);
  Tensor v = randn({1, 2, 5, 3}, 2, Dtype::f64);
  Tensor o = ops::causal_attention_reference(q, k, v, 0.5);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t t = 0; t < 5; ++t)
      for (int64_t d = 0; d < 3; ++d) {
        double mean = 0;
        for (int64_t s = 0; s <= t; ++s) mean += v.at({0, h, s, d}) / static_cast<double>(t + 1);
        REQUIRE(o.at({0, h, t, d}) == Approx(mean).epsilon(1e-14));
      }
}

TEST_CASE("causal_attention forward matches the reference", "[ops][attention]") {
  const int64_t T = GENERATE(1, 5, 17, 63, 64, 65, 130);
  const int64_t D = GENERATE(4, 8);
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::f64);
  INFO("T = " << T << ", D = " << D << ", " << dtype_name(dtype));
  Tensor q = randn({2, 2, T, D}, 10, dtype), k = randn({2, 2, T, D}, 11, dtype), v = randn({2, 2, T, D}, 12, dtype);
  Tensor o = fused(q, k, v);
  REQUIRE(o.is_contiguous());
  require_close(o, reference(q, k, v), tol_of(dtype), tol_of(dtype));
  // A scale other than 1/sqrt(D) and scores large enough that an unstabilised softmax would overflow.
  Tensor qb = ops::affine(q, 30.0);
  require_close(ops::causal_attention(qb, k, v, 0.9), ops::causal_attention_reference(qb, k, v, 0.9),
                10 * tol_of(dtype), 10 * tol_of(dtype), "large scores");
}

TEST_CASE("causal_attention forward takes strided views", "[ops][attention]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::f64);
  // (B, T, H, D) permuted to (B, H, T, D): strided batch, head and time, unit stride over D (no copy).
  Tensor q = ops::permute(randn({2, 67, 3, 5}, 20, dtype), {0, 2, 1, 3});
  Tensor k = ops::permute(randn({2, 67, 3, 5}, 21, dtype), {0, 2, 1, 3});
  // (B, H, D, T) transposed: stride T over D, which the op copies.
  Tensor v = ops::transpose(randn({2, 3, 5, 67}, 22, dtype), 2, 3);
  REQUIRE_FALSE(q.is_contiguous());
  REQUIRE(v.stride(3) != 1);
  require_close(fused(q, k, v), reference(q, k, v), tol_of(dtype), tol_of(dtype));
}

TEST_CASE("causal_attention backward matches the reference", "[ops][attention]") {
  const int64_t T = GENERATE(1, 5, 17, 64, 65, 130);
  const int64_t D = GENERATE(4, 8);
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::f64);
  INFO("T = " << T << ", D = " << D << ", " << dtype_name(dtype));
  Tensor q = randn({2, 2, T, D}, 30, dtype), k = randn({2, 2, T, D}, 31, dtype), v = randn({2, 2, T, D}, 32, dtype);
  Tensor dout = randn({2, 2, T, D}, 33, dtype);
  Grads got = run_with_grads(fused, q, k, v, dout), want = run_with_grads(reference, q, k, v, dout);
  const double tol = tol_of(dtype);
  require_close(got.out, want.out, tol, tol, "out");
  require_close(got.dq, want.dq, tol, tol, "dq");
  require_close(got.dk, want.dk, tol, tol, "dk");
  require_close(got.dv, want.dv, tol, tol, "dv");
}

TEST_CASE("causal_attention backward with strided inputs and only some inputs requiring grad", "[ops][attention]") {
  Tensor q = ops::permute(randn({1, 70, 2, 6}, 40, Dtype::f64), {0, 2, 1, 3});
  Tensor k = ops::permute(randn({1, 70, 2, 6}, 41, Dtype::f64), {0, 2, 1, 3});
  Tensor v = randn({1, 2, 70, 6}, 42, Dtype::f64);
  Tensor dout = randn({1, 2, 70, 6}, 43, Dtype::f64);
  Tensor qr = req(q.detach()), kr = req(k.detach());
  Tensor qref = req(ops::clone(q).detach()), kref = req(ops::clone(k).detach());
  // B·H = 2 on 3 threads takes the two-pass backward (dK/dV by key tile, then dQ by query tile).
  const int saved = omp_get_max_threads();
  omp_set_num_threads(3);
  autograd::backward({fused(qr, kr, v)}, {dout});
  omp_set_num_threads(saved);
  autograd::backward({reference(qref, kref, v)}, {dout});
  REQUIRE_FALSE(v.grad().defined());
  require_close(qr.grad(), qref.grad(), 1e-12, 1e-12, "dq");
  require_close(kr.grad(), kref.grad(), 1e-12, 1e-12, "dk");
}

TEST_CASE("causal_attention gradcheck", "[ops][attention]") {
  const double scale = 0.6;
  auto fn = [scale](auto& in) { return ops::causal_attention(in[0], in[1], in[2], scale); };
  // One tile with a partial row block, then a sequence that crosses a tile boundary (64).
  require_gradcheck(fn, {req(randn({2, 2, 5, 4}, 50, Dtype::f64)), req(randn({2, 2, 5, 4}, 51, Dtype::f64)),
                         req(randn({2, 2, 5, 4}, 52, Dtype::f64))});
  require_gradcheck(fn, {req(randn({1, 1, 67, 3}, 53, Dtype::f64)), req(randn({1, 1, 67, 3}, 54, Dtype::f64)),
                         req(randn({1, 1, 67, 3}, 55, Dtype::f64))});
}

TEST_CASE("causal_attention_reference gradcheck", "[ops][attention]") {
  require_gradcheck([](auto& in) { return ops::causal_attention_reference(in[0], in[1], in[2], 0.6); },
                    {req(randn({2, 2, 7, 4}, 56, Dtype::f64)), req(randn({2, 2, 7, 4}, 57, Dtype::f64)),
                     req(randn({2, 2, 7, 4}, 58, Dtype::f64))});
}

TEST_CASE("causal_attention is causal: changing k and v at t changes no output before t", "[ops][attention]") {
  const int64_t t = GENERATE(0, 40, 64, 100);
  Tensor q = randn({2, 2, 130, 8}, 60), k = randn({2, 2, 130, 8}, 61), v = randn({2, 2, 130, 8}, 62);
  Tensor k2 = ops::clone(k), v2 = ops::clone(v);
  for (int64_t d = 0; d < 8; ++d) {
    k2.data<float>()[((1 * 2 + 1) * 130 + t) * 8 + d] += 3.0f;
    v2.data<float>()[((1 * 2 + 1) * 130 + t) * 8 + d] -= 5.0f;
  }
  auto a = fused(q, k, v).to_vector<float>(), b = fused(q, k2, v2).to_vector<float>();
  bool later_changed = false;
  for (int64_t z = 0; z < 4; ++z)
    for (int64_t s = 0; s < 130; ++s)
      for (int64_t d = 0; d < 8; ++d) {
        const size_t i = (z * 130 + s) * 8 + d;
        if (z != 3 || s < t) {
          INFO("head " << z << " position " << s);
          REQUIRE(a[i] == b[i]);
        } else if (a[i] != b[i]) {
          later_changed = true;
        }
      }
  REQUIRE(later_changed);  // the change is visible from t on, so the check above could fail
}

TEST_CASE("causal_attention gives the same bits for any thread count", "[ops][attention]") {
  Tensor q = randn({2, 3, 130, 8}, 70), k = randn({2, 3, 130, 8}, 71), v = randn({2, 3, 130, 8}, 72);
  Tensor dout = randn({2, 3, 130, 8}, 73);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  Grads one = run_with_grads(fused, q, k, v, dout);
  // B·H = 6: one thread runs the one-pass backward (a task per head), four threads the two-pass one.
  omp_set_num_threads(4);
  Grads four = run_with_grads(fused, q, k, v, dout);
  omp_set_num_threads(saved);
  REQUIRE(one.out.to_vector<float>() == four.out.to_vector<float>());
  REQUIRE(one.dq.to_vector<float>() == four.dq.to_vector<float>());
  REQUIRE(one.dk.to_vector<float>() == four.dk.to_vector<float>());
  REQUIRE(one.dv.to_vector<float>() == four.dv.to_vector<float>());
}

TEST_CASE("causal_attention errors name every operand", "[ops][attention]") {
  Tensor q = randn({2, 2, 5, 4}, 80);
  REQUIRE_THROWS_WITH(ops::causal_attention(randn({2, 5, 4}, 81), q, q, 0.5),
                      Catch::Contains("[causal_attention]") && Catch::Contains("(B, H, T, D)") &&
                          Catch::Contains("q: f32 (2, 5, 4)") && Catch::Contains("k: f32 (2, 2, 5, 4)"));
  REQUIRE_THROWS_WITH(ops::causal_attention(q, q, randn({2, 2, 6, 4}, 82), 0.5),
                      Catch::Contains("[causal_attention]") && Catch::Contains("v: f32 (2, 2, 6, 4)"));
  REQUIRE_THROWS_WITH(
      ops::causal_attention(q, randn({2, 2, 5, 4}, 83, Dtype::f64), q, 0.5),
      Catch::Contains("[causal_attention] operands must have one dtype") && Catch::Contains("k: f64 (2, 2, 5, 4)"));
  REQUIRE_THROWS_WITH(
      ops::causal_attention(randn({2, 2, 5, 0}, 84), randn({2, 2, 5, 0}, 84), randn({2, 2, 5, 0}, 84), 0.5),
      Catch::Contains("[causal_attention]") && Catch::Contains("(2, 2, 5, 0)"));
  REQUIRE_THROWS_WITH(ops::causal_attention(q, q, q, std::nan("")), Catch::Contains("[causal_attention] scale"));
  REQUIRE_THROWS_WITH(ops::causal_attention_reference(q, q, randn({1, 2, 5, 4}, 85), 0.5),
                      Catch::Contains("[causal_attention_reference]") && Catch::Contains("v: f32 (1, 2, 5, 4)"));
}
