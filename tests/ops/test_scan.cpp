#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "autograd/engine.h"
#include "autograd/ops/scan.h"
#include "autograd/ops/view.h"
#include "helpers.h"
#include "kernels/scan.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// The eight scan operands, in the order of ops::selective_scan.
struct ScanCase {
  Tensor u, dr, A, Bm, Cm, D, bias, z;
  std::vector<Tensor> list() const { return {u, dr, A, Bm, Cm, D, bias, z}; }
};

Tensor of(const std::vector<double>& v, const Shape& shape, Dtype dtype) {
  Tensor t = Tensor::from_vector(v, shape);
  return dtype == Dtype::f64 ? t : Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape);
}

// Random operands as in the upstream test: A = −exp(N(0,1)) or −0.5·U(0,1); delta_raw + delta_bias mostly in
// softplus' curved range, with some elements above 20 (identity branch) and some below −20.
ScanCase make_case(int64_t B, int64_t T, int64_t Di, int64_t N, uint64_t seed, Dtype dtype, bool uniform_A = false) {
  ScanCase c;
  c.u = randn({B, T, Di}, seed, dtype);
  auto dr = randn({B, T, Di}, seed + 1, Dtype::f64, 1.5).to_vector<double>();
  for (size_t i = 0; i < dr.size(); ++i) {
    if (i % 13 == 5) dr[i] = 25.0;
    if (i % 17 == 3) dr[i] = -25.0;
  }
  c.dr = of(dr, {B, T, Di}, dtype);
  auto a = uniform_A ? randu({Di, N}, seed + 2, -0.5, 0.0, Dtype::f64).to_vector<double>()
                     : randn({Di, N}, seed + 2, Dtype::f64).to_vector<double>();
  if (!uniform_A)
    for (double& v : a) v = -std::exp(v);
  c.A = of(a, {Di, N}, dtype);
  c.Bm = randn({B, T, N}, seed + 3, dtype);
  c.Cm = randn({B, T, N}, seed + 4, dtype);
  c.D = randn({Di}, seed + 5, dtype);
  c.bias = randu({Di}, seed + 6, -3.0, 0.5, dtype);
  c.z = randn({B, T, Di}, seed + 7, dtype);
  return c;
}

Tensor run(const ScanCase& c, int64_t chunk) {
  return ops::selective_scan(c.u, c.dr, c.A, c.Bm, c.Cm, c.D, c.bias, c.z, chunk);
}

void require_bitwise(const Tensor& got, const Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.shape() == want.shape());
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  REQUIRE(std::memcmp(g.data(), w.data(), g.size() * sizeof(double)) == 0);
}

// Output and the eight gradients for upstream gradient dy.
std::vector<Tensor> out_and_grads(const ScanCase& c0, const Tensor& dy, int64_t chunk) {
  ScanCase c = c0;
  for (Tensor* t : {&c.u, &c.dr, &c.A, &c.Bm, &c.Cm, &c.D, &c.bias, &c.z}) *t = req(t->detach());
  Tensor out = run(c, chunk);
  autograd::backward({out}, {dy});
  std::vector<Tensor> r{out};
  for (const Tensor& t : c.list()) r.push_back(t.grad());
  return r;
}

const char* kNames[] = {"out", "du", "ddelta_raw", "dA", "dBm", "dCm", "dD", "ddelta_bias", "dz"};

}  // namespace

TEST_CASE("selective_scan forward matches the f64 recurrence", "[ops][scan]") {
  const int64_t T = GENERATE(1, 3, 4, 5, 127, 128, 129);
  const bool uniform_A = T % 2 == 0;
  const int64_t B = T < 100 ? 2 : 1, Di = T % 3 == 0 ? 6 : 5, N = T < 100 ? 5 : 16;
  ScanCase c = make_case(B, T, Di, N, 10 + T, Dtype::f32, uniform_A);
  ops::ScanResult ref = ops::selective_scan_reference(c.u, c.dr, c.A, c.Bm, c.Cm, c.D, c.bias, c.z);
  double scale_out = 0, scale_h = 0;
  for (double v : ref.out.to_vector<double>()) scale_out = std::max(scale_out, std::abs(v));
  for (double v : ref.last_state.to_vector<double>()) scale_h = std::max(scale_h, std::abs(v));
  for (int64_t chunk : {int64_t(1), int64_t(7), int64_t(128), T}) {
    INFO("T " << T << ", chunk " << chunk);
    ops::ScanResult r = ops::selective_scan_with_state(c.u, c.dr, c.A, c.Bm, c.Cm, c.D, c.bias, c.z, chunk);
    require_close(r.out, ref.out, 1e-5 * scale_out, 0, "out");
    require_close(r.last_state, ref.last_state, 1e-5 * scale_h, 0, "last state");
  }
}

TEST_CASE("selective_scan_reference matches a hand computation", "[ops][scan]") {
  // B = Di = N = 1, T = 2: h0 = Δ0 B0 u0, h1 = exp(Δ1 A) h0 + Δ1 B1 u1, y_t = C_t h_t + D u_t.
  auto t3 = [](double a, double b) { return Tensor::from_vector(std::vector<double>{a, b}, {1, 2, 1}); };
  auto t1 = [](double a) { return Tensor::from_vector(std::vector<double>{a}, {1}); };
  Tensor u = t3(0.5, -1.0), dr = t3(0.3, 30.0), Bm = t3(2.0, -0.5), Cm = t3(1.5, 0.25), z = t3(0.7, -0.2);
  Tensor A = Tensor::from_vector(std::vector<double>{-0.8}, {1, 1}), D = t1(0.4), bias = t1(-0.1);
  ops::ScanResult r = ops::selective_scan_reference(u, dr, A, Bm, Cm, D, bias, z);
  const double d0 = std::log1p(std::exp(0.2)), d1 = 29.9;
  const double h0 = d0 * 2.0 * 0.5, h1 = std::exp(d1 * -0.8) * h0 + d1 * -0.5 * -1.0;
  auto silu = [](double x) { return x / (1 + std::exp(-x)); };
  require_close(r.out, t3((1.5 * h0 + 0.4 * 0.5) * silu(0.7), (0.25 * h1 + 0.4 * -1.0) * silu(-0.2)), 1e-14, 1e-14);
  REQUIRE(r.last_state.item() == Approx(h1).epsilon(1e-14));
}

TEST_CASE("selective_scan backward matches central differences of the f64 reference", "[ops][scan]") {
  ScanCase c = make_case(2, 9, 5, 3, 31, Dtype::f64);
  Tensor R = randn({2, 9, 5}, 77, Dtype::f64);
  std::vector<Tensor> got = out_and_grads(c, R, 4);
  auto loss = [&](const std::vector<Tensor>& x) {
    auto out = ops::selective_scan_reference(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]).out.to_vector<double>();
    auto r = R.to_vector<double>();
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += out[i] * r[i];
    return s;
  };
  const double eps = 1e-6;
  std::vector<Tensor> x = c.list();
  for (size_t k = 0; k < x.size(); ++k) {
    INFO("gradient " << kNames[k + 1]);
    auto v = x[k].to_vector<double>(), g = got[k + 1].to_vector<double>();
    int bad = 0;
    for (size_t j = 0; j < v.size(); ++j) {
      std::vector<Tensor> xp = x, xm = x;
      auto vp = v, vm = v;
      vp[j] += eps;
      vm[j] -= eps;
      xp[k] = Tensor::from_vector(vp, x[k].shape());
      xm[k] = Tensor::from_vector(vm, x[k].shape());
      const double numeric = (loss(xp) - loss(xm)) / (2 * eps);
      if (std::abs(g[j] - numeric) > 1e-8 + 1e-6 * std::abs(numeric) && bad++ < 5)
        UNSCOPED_INFO("[" << j << "] analytic " << g[j] << " numeric " << numeric);
    }
    REQUIRE(bad == 0);
  }
}

TEST_CASE("selective_scan gradcheck", "[ops][scan]") {
  // Bm and Cm are column slices of one (B, T, 2 + 2N) tensor, as in the Mamba mixer: non-contiguous.
  ScanCase c = make_case(2, 8, 5, 3, 41, Dtype::f64);
  Tensor dbl = randn({2, 8, 8}, 42, Dtype::f64);
  require_gradcheck(
      [](auto& in) {
        Tensor Bm = ops::narrow(in[3], 2, 2, 3), Cm = ops::narrow(in[3], 2, 5, 3);
        return ops::selective_scan(in[0], in[1], in[2], Bm, Cm, in[4], in[5], in[6], 3);
      },
      {req(c.u), req(c.dr), req(c.A), req(dbl), req(c.D), req(c.bias), req(c.z)});
}

TEST_CASE("selective_scan outputs and gradients are bitwise equal for every chunk size and thread count",
          "[ops][scan]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::f64);
  const int64_t T = 129;
  ScanCase c = make_case(2, T, 70, 16, 51, dtype);  // 5 channel blocks, 2 backward groups
  Tensor dy = randn({2, T, 70}, 52, dtype);
  std::vector<Tensor> want = out_and_grads(c, dy, T);
  for (int64_t chunk : {int64_t(1), int64_t(7), int64_t(128), int64_t(2048)}) {
    std::vector<Tensor> got = out_and_grads(c, dy, chunk);
    for (size_t i = 0; i < got.size(); ++i) require_bitwise(got[i], want[i], kNames[i]);
  }
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<Tensor> one = out_and_grads(c, dy, 7);
  omp_set_num_threads(3);
  std::vector<Tensor> three = out_and_grads(c, dy, 7);
  omp_set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i) {
    require_bitwise(one[i], want[i], std::string("1 thread: ") + kNames[i]);
    require_bitwise(three[i], want[i], std::string("3 threads: ") + kNames[i]);
  }
}

TEST_CASE("selective_scan_step decoding reproduces the full forward", "[ops][scan]") {
  const int64_t B = 2, T = 21, Di = 6, N = 5;
  ScanCase c = make_case(B, T, Di, N, 61, Dtype::f32);
  Tensor full = run(c, 4);
  autograd::NoGradGuard no_grad;
  for (int64_t P : {0, 1, 3, 4, 5, 17}) {
    INFO("prefill " << P);
    Tensor state = Tensor::zeros({B, Di, N}, Dtype::f32);
    if (P > 0) {
      auto pre = [&](const Tensor& t) { return ops::narrow(t, 1, 0, P); };
      ops::ScanResult r =
          ops::selective_scan_with_state(pre(c.u), pre(c.dr), c.A, pre(c.Bm), pre(c.Cm), c.D, c.bias, pre(c.z), 2);
      require_close(r.out, pre(full), 1e-6, 1e-5, "prefill output");
      state = r.last_state;
    }
    for (int64_t t = P; t < T; ++t) {
      auto at = [&](const Tensor& x) { return ops::select(x, 1, t); };  // (B, Di) or (B, N), strided
      Tensor o = ops::selective_scan_step(state, at(c.u), at(c.dr), at(c.z), at(c.Bm), at(c.Cm), c.A, c.D, c.bias);
      require_close(o, at(full), 1e-6, 1e-5, "step " + std::to_string(t));
    }
  }
}

TEST_CASE("selective_scan kernels write nothing outside their outputs", "[ops][scan]") {
  // Direct kernel calls with guard values after every output (ggml's sentinels); Di = 5 exercises the
  // padded lanes of a channel block.
  const int64_t B = 2, T = 6, Di = 5, N = 3, guard = 32;
  const float kGuard = -12345.0f;
  ScanCase c = make_case(B, T, Di, N, 71, Dtype::f32);
  kernels::ScanDims d{B, T, Di, N, 4};
  kernels::ScanInputs in{c.u.data_ptr(),  c.dr.data_ptr(), c.A.data_ptr(),    c.Bm.data_ptr(),
                         c.Cm.data_ptr(), c.D.data_ptr(),  c.bias.data_ptr(), c.z.data_ptr()};
  auto buffer = [&](int64_t n) { return std::vector<float>(n + guard, kGuard); };
  auto intact = [&](const std::vector<float>& v, int64_t n) {
    for (int64_t i = n; i < n + guard; ++i)
      if (v[i] != kGuard) return false;
    return true;
  };
  auto out = buffer(B * T * Di), ckpt = buffer(B * 2 * Di * N), dy = buffer(B * T * Di);
  std::fill(dy.begin(), dy.begin() + B * T * Di, 0.5f);
  kernels::cpu::selective_scan_forward(Dtype::f32, d, in, out.data(), ckpt.data());
  REQUIRE(intact(out, B * T * Di));
  REQUIRE(intact(ckpt, B * 2 * Di * N));
  auto du = buffer(B * T * Di), ddr = buffer(B * T * Di), dz = buffer(B * T * Di), dA = buffer(Di * N);
  auto dBm = buffer(B * T * N), dCm = buffer(B * T * N), dD = buffer(Di), dbias = buffer(Di);
  kernels::cpu::selective_scan_backward(
      Dtype::f32, d, in, ckpt.data(), dy.data(),
      {du.data(), ddr.data(), dA.data(), dBm.data(), dCm.data(), dD.data(), dbias.data(), dz.data()});
  for (auto* v : {&du, &ddr, &dz}) REQUIRE(intact(*v, B * T * Di));
  REQUIRE(intact(dA, Di * N));
  REQUIRE(intact(dBm, B * T * N));
  REQUIRE(intact(dCm, B * T * N));
  REQUIRE(intact(dD, Di));
  REQUIRE(intact(dbias, Di));
  auto state = buffer(B * Di * N), o = buffer(B * Di);
  std::fill(state.begin(), state.begin() + B * Di * N, 0.0f);
  kernels::cpu::selective_scan_step(Dtype::f32, d, in, state.data(), o.data());
  REQUIRE(intact(state, B * Di * N));
  REQUIRE(intact(o, B * Di));
}

TEST_CASE("selective_scan error messages name the operands", "[ops][scan]") {
  ScanCase c = make_case(2, 5, 4, 3, 81, Dtype::f32);
  using Catch::Contains;
  REQUIRE_THROWS_WITH(ops::selective_scan(c.u, c.dr, randn({4, 2}, 1), c.Bm, c.Cm, c.D, c.bias, c.z),
                      Contains("[selective_scan] A must have shape (Di, N) = (4, 3)") && Contains("A: f32 (4, 2)") &&
                          Contains("u: f32 (2, 5, 4)") && Contains("Bm: f32 (2, 5, 3)"));
  REQUIRE_THROWS_WITH(
      ops::selective_scan(c.u, c.dr, c.A, randn({2, 4, 3}, 1), c.Cm, c.D, c.bias, c.z),
      Contains("[selective_scan] Bm and Cm must both have shape (B, T, N)") && Contains("Bm: f32 (2, 4, 3)"));
  REQUIRE_THROWS_WITH(ops::selective_scan(c.u, randn({2, 5, 5}, 1), c.A, c.Bm, c.Cm, c.D, c.bias, c.z),
                      Contains("delta_raw and z must have u's shape") && Contains("delta_raw: f32 (2, 5, 5)"));
  REQUIRE_THROWS_WITH(ops::selective_scan(c.u, c.dr, c.A, c.Bm, c.Cm, randn({5}, 1), c.bias, c.z),
                      Contains("D and delta_bias must have shape (Di) = (4)") && Contains("D: f32 (5)"));
  REQUIRE_THROWS_WITH(ops::selective_scan(c.u, c.dr, randn({4, 3}, 1, Dtype::f64), c.Bm, c.Cm, c.D, c.bias, c.z),
                      Contains("A, D and delta_bias must be f32") && Contains("A: f64 (4, 3)"));
  REQUIRE_THROWS_WITH(ops::selective_scan(c.u, c.dr, c.A, c.Bm, c.Cm, c.D, c.bias, c.z, 0),
                      Contains("[selective_scan] chunk must be >= 1; got 0"));
  autograd::NoGradGuard no_grad;
  auto at = [](const Tensor& x) { return ops::select(x, 1, 0); };
  REQUIRE_THROWS_WITH(ops::selective_scan_step(Tensor::zeros({2, 4, 2}, Dtype::f32), at(c.u), at(c.dr), at(c.z),
                                               at(c.Bm), at(c.Cm), c.A, c.D, c.bias),
                      Contains("[selective_scan_step] state must be a contiguous f32 tensor of shape (B, Di, N) = "
                               "(2, 4, 3)") &&
                          Contains("state: f32 (2, 4, 2)"));
  {
    autograd::EnableGradGuard grad;
    Tensor A = req(c.A.detach());
    REQUIRE_THROWS_WITH(ops::selective_scan_step(Tensor::zeros({2, 4, 3}, Dtype::f32), at(c.u), at(c.dr), at(c.z),
                                                 at(c.Bm), at(c.Cm), A, c.D, c.bias),
                        Contains("[selective_scan_step] is not differentiable"));
  }
}
