#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "autograd/ops/scan.h"
#include "autograd/ops/view.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// f32 CPU operands in the order of ops::selective_scan, as in tests/ops/test_scan.cpp: A = −exp(N(0,1)),
// and delta_raw + delta_bias beyond ±20 for some elements.
std::vector<Tensor> scan_operands(int64_t B, int64_t T, int64_t Di, int64_t N, uint64_t seed) {
  auto dr = randn({B, T, Di}, seed + 1, Dtype::f64, 1.5).to_vector<double>();
  for (size_t i = 0; i < dr.size(); ++i) {
    if (i % 13 == 5) dr[i] = 25.0;
    if (i % 17 == 3) dr[i] = -25.0;
  }
  auto a = randn({Di, N}, seed + 2, Dtype::f64).to_vector<double>();
  for (double& v : a) v = -std::exp(v);
  auto f32 = [](const std::vector<double>& v, const Shape& s) {
    return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), s);
  };
  return {randn({B, T, Di}, seed),          f32(dr, {B, T, Di}),        f32(a, {Di, N}),
          randn({B, T, N}, seed + 3),       randn({B, T, N}, seed + 4), randn({Di}, seed + 5),
          randu({Di}, seed + 6, -3.0, 0.5), randn({B, T, Di}, seed + 7)};
}

// Operands 2, 5, 6 (A, D, delta_bias) are parameters: always in the compute dtype (f32, or f64 for f64).
bool is_param(size_t i) { return i == 2 || i == 5 || i == 6; }

// The operands as `dtype` activations on `device` (leaves requiring grad); the CPU copies hold the same
// rounded values in f32 (f64 for f64).
std::vector<Tensor> place(const std::vector<Tensor>& in, Dtype dtype, Device device) {
  std::vector<Tensor> out;
  const Dtype compute = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  for (size_t i = 0; i < in.size(); ++i) {
    Tensor t = ops::cast(in[i], is_param(i) ? compute : dtype);
    t = device.is_cpu() ? ops::clone(ops::cast(t, compute)) : ops::to(t, device);
    out.push_back(req(t.detach()));
  }
  return out;
}

Tensor to_cpu(const Tensor& t, Dtype dtype) { return ops::cast(ops::to(t, cpu_device()), dtype); }

}  // namespace

TEST_CASE("cuda parity: selective_scan forward, last state and every gradient", "[cuda]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  const int64_t T = GENERATE(1, 3, 4, 5, 127, 128, 129, 2047, 2048, 2049, 4100);
  const int64_t chunk = GENERATE(7, 2048);
  const int64_t B = T % 2 ? 2 : 1, Di = T % 3 ? 6 : 4, N = T < 2000 ? 5 : 16;
  INFO("dtype " << dtype_name(dtype) << ", T " << T << ", chunk " << chunk);
  const Dtype compute = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  auto in = scan_operands(B, T, Di, N, 300 + T);
  std::vector<Tensor> c = place(in, dtype, cpu_device()), g = place(in, dtype, cuda_device());
  auto scan = [chunk](const std::vector<Tensor>& x) {
    return ops::selective_scan_with_state(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], chunk);
  };
  ops::ScanResult rc = scan(c), rg = scan(g);
  Tensor dy = ops::cast(ops::cast(randn({B, T, Di}, 4242), dtype), compute);
  autograd::backward({rc.out}, {dy});
  autograd::backward({rg.out}, {ops::to(ops::cast(dy, dtype), cuda_device())});
  // Upstream test_selective_scan tolerances for f32 (per gradient) and bf16; f64 must agree to rounding.
  struct Check {
    const char* name;
    double atol, rtol;
  };
  const double s = dtype == Dtype::f64 ? 1e-6 : 1.0;
  const Check checks[] = {{"du", 4e-3 * s, 1.2e-3 * s},        {"ddelta_raw", 2e-2 * s, 3e-3 * s},
                          {"dA", 5e-3 * s, 1e-3 * s},          {"dBm", 2e-3 * s, 6e-4 * s},
                          {"dCm", 2e-3 * s, 6e-4 * s},         {"dD", 1e-3 * s, 1e-3 * s},
                          {"ddelta_bias", 1e-3 * s, 1e-3 * s}, {"dz", 1e-3 * s, 1e-3 * s}};
  const bool bf16 = dtype == Dtype::bf16;
  require_close(to_cpu(rg.out, compute), rc.out, bf16 ? 5e-2 : 2e-3 * s, bf16 ? 3e-2 : 6e-4 * s, "out");
  require_close(to_cpu(rg.last_state, compute), rc.last_state, bf16 ? 5e-2 : 2e-3 * s, bf16 ? 3e-2 : 6e-4 * s,
                "last state");
  for (size_t i = 0; i < c.size(); ++i)
    require_close(to_cpu(g[i].grad(), compute), c[i].grad(), bf16 ? 5e-2 : checks[i].atol, bf16 ? 3e-2 : checks[i].rtol,
                  checks[i].name);
}

TEST_CASE("cuda parity: selective_scan results are bitwise identical run to run", "[cuda]") {
  auto in = scan_operands(2, 300, 70, 16, 7);
  auto once = [&] {
    std::vector<Tensor> g = place(in, Dtype::f32, cuda_device());
    Tensor out = ops::selective_scan(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], 64);
    autograd::backward({out}, {ops::to(randn({2, 300, 70}, 9), cuda_device())});
    std::vector<std::vector<float>> r{to_cpu(out, Dtype::f32).to_vector<float>()};
    for (const Tensor& t : g) r.push_back(to_cpu(t.grad(), Dtype::f32).to_vector<float>());
    return r;
  };
  auto a = once(), b = once();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("result " << i);
    REQUIRE(std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) == 0);
  }
}

TEST_CASE("cuda parity: selective_scan_step", "[cuda]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  const Dtype compute = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  const int64_t B = 2, Di = 37, N = 16;
  auto in = scan_operands(B, 3, Di, N, 11);
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> c = place(in, dtype, cpu_device()), g = place(in, dtype, cuda_device());
  Tensor state_c = ops::clone(ops::cast(randn({B, Di, N}, 12), compute));
  Tensor state_g = ops::to(state_c, cuda_device());
  const Tol tol = dtype == Dtype::bf16 ? Tol{5e-2, 3e-2} : Tol{1e-5, 1e-5};
  for (int64_t t = 0; t < 3; ++t) {
    auto step = [t](const std::vector<Tensor>& x, const Tensor& state) {
      auto at = [t](const Tensor& v) { return ops::select(v, 1, t); };
      return ops::selective_scan_step(state, at(x[0]), at(x[1]), at(x[7]), at(x[3]), at(x[4]), x[2], x[5], x[6]);
    };
    Tensor oc = step(c, state_c), og = step(g, state_g);
    require_close(to_cpu(og, compute), oc, tol.atol, tol.rtol, "out at step " + std::to_string(t));
    require_close(to_cpu(state_g, compute), state_c, tol.atol, tol.rtol, "state at step " + std::to_string(t));
  }
}

TEST_CASE("cuda parity: selective_scan at Mamba 125M's width (1536 channels, 48 warps), states 16 and 64", "[cuda]") {
  const int64_t N = GENERATE(16, 64);
  const int64_t B = 1, T = 21, Di = 1536;
  INFO("N " << N);
  auto in = scan_operands(B, T, Di, N, 500 + N);
  std::vector<Tensor> c = place(in, Dtype::f32, cpu_device()), g = place(in, Dtype::f32, cuda_device());
  auto scan = [](const std::vector<Tensor>& x) {
    return ops::selective_scan_with_state(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], 8);
  };
  ops::ScanResult rc = scan(c), rg = scan(g);
  Tensor dy = randn({B, T, Di}, 4243);
  autograd::backward({rc.out}, {dy});
  autograd::backward({rg.out}, {ops::to(dy, cuda_device())});
  require_close(to_cpu(rg.out, Dtype::f32), rc.out, 2e-3, 6e-4, "out");
  require_close(to_cpu(rg.last_state, Dtype::f32), rc.last_state, 2e-3, 6e-4, "last state");
  const char* names[] = {"du", "ddelta_raw", "dA", "dBm", "dCm", "dD", "ddelta_bias", "dz"};
  for (size_t i = 0; i < c.size(); ++i)
    require_close(to_cpu(g[i].grad(), Dtype::f32), c[i].grad(), 2e-2, 3e-3, names[i]);

  // One decoding step over the same width.
  autograd::NoGradGuard no_grad;
  Tensor state_c = randn({B, Di, N}, 13), state_g = ops::to(state_c, cuda_device());
  auto step = [](const std::vector<Tensor>& x, const Tensor& state) {
    auto at = [](const Tensor& v) { return ops::select(v, 1, 0); };
    return ops::selective_scan_step(state, at(x[0]), at(x[1]), at(x[7]), at(x[3]), at(x[4]), x[2], x[5], x[6]);
  };
  Tensor oc = step(c, state_c), og = step(g, state_g);
  require_close(to_cpu(og, Dtype::f32), oc, 1e-5, 1e-5, "step out");
  require_close(to_cpu(state_g, Dtype::f32), state_c, 1e-5, 1e-5, "step state");
}
