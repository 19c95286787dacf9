#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/ops/copy.h"
#include "autograd/ops/random.h"
#include "core/philox.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

struct Moments {
  double mean, var, lo, hi;
};
Moments moments(const Tensor& t) {
  auto v = t.to_vector<double>();
  double s = 0, s2 = 0, lo = v[0], hi = v[0];
  for (double x : v) {
    s += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  double mean = s / v.size();
  for (double x : v) s2 += (x - mean) * (x - mean);
  return {mean, s2 / v.size(), lo, hi};
}

const Device cpu = cpu_device();

}  // namespace

TEST_CASE("random_normal has the asked moments", "[ops][random]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  Moments m = moments(ops::random_normal({200, 501}, dtype, cpu, 7, 3, 1.5, 0.02));
  REQUIRE(std::abs(m.mean - 1.5) < 0.02 * 0.01);
  REQUIRE(std::abs(std::sqrt(m.var) / 0.02 - 1.0) < 0.01);
}

TEST_CASE("random_uniform stays in [lo, hi] with the uniform moments", "[ops][random]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  Moments m = moments(ops::random_uniform({100001}, dtype, cpu, 8, 0, -0.5, 0.5));
  REQUIRE(m.lo >= -0.5);
  REQUIRE(m.hi <= 0.5);
  REQUIRE(m.lo < -0.499);
  REQUIRE(m.hi > 0.499);
  REQUIRE(std::abs(m.mean) < 0.005);
  REQUIRE(std::abs(m.var / (1.0 / 12) - 1.0) < 0.02);
}

TEST_CASE("random_trunc_normal stays within the bound with the truncated moments", "[ops][random]") {
  // N(0, 1) truncated to +-2 has variance 1 - 2*2*phi(2)/(Phi(2)-Phi(-2)) = 0.773741.
  Moments m = moments(ops::random_trunc_normal({100000}, Dtype::f64, cpu, 9, 5, 0.5, 2.0));
  REQUIRE(m.lo >= -1.0);
  REQUIRE(m.hi <= 1.0);
  REQUIRE(m.hi > 0.99);
  REQUIRE(std::abs(m.mean) < 0.005);
  REQUIRE(std::abs(m.var / (0.25 * 0.773741) - 1.0) < 0.02);
}

TEST_CASE("random draws are deterministic in (seed, offset) and differ across them", "[ops][random]") {
  auto a = ops::random_normal({257}, Dtype::f32, cpu, 1, 2).to_vector<float>();
  REQUIRE(ops::random_normal({257}, Dtype::f32, cpu, 1, 2).to_vector<float>() == a);
  REQUIRE(ops::random_normal({257}, Dtype::f32, cpu, 1, 3).to_vector<float>() != a);
  REQUIRE(ops::random_normal({257}, Dtype::f32, cpu, 2, 2).to_vector<float>() != a);
  auto u = ops::random_uniform({5, 7}, Dtype::f32, cpu, 1, 2).to_vector<float>();
  REQUIRE(ops::random_uniform({5, 7}, Dtype::f32, cpu, 1, 2).to_vector<float>() == u);
  auto t = ops::random_trunc_normal({300}, Dtype::f32, cpu, 1, 2, 1.0).to_vector<float>();
  REQUIRE(ops::random_trunc_normal({300}, Dtype::f32, cpu, 1, 2, 1.0).to_vector<float>() == t);
}

TEST_CASE("random values equal a direct Philox loop", "[ops][random]") {
  const uint64_t seed = 12345, offset = 77;
  const int64_t n = 1000;
  auto nv = ops::random_normal({n}, Dtype::f64, cpu, seed, offset, 0.25, 3.0).to_vector<double>();
  auto uv = ops::random_uniform({n}, Dtype::f64, cpu, seed, offset, -2.0, 6.0).to_vector<double>();
  auto uf = ops::random_uniform({n}, Dtype::f32, cpu, seed, offset, -2.0, 6.0).to_vector<float>();
  auto tv = ops::random_trunc_normal({n}, Dtype::f64, cpu, seed, offset, 2.0, 1.0).to_vector<double>();
  int rejected = 0;
  for (int64_t i = 0; i < n; ++i) {
    INFO("element " << i);
    REQUIRE(nv[i] == std::fma(3.0, philox::normal(seed, offset, i), 0.25));
    double u = std::fma(8.0, philox::uniform(seed, offset, i), -2.0);
    REQUIRE(uv[i] == u);
    REQUIRE(uf[i] == static_cast<float>(u));
    // Rejection: attempt j draws with counter (i, offset + j * 2^32) until |z| <= 1.
    double z = philox::normal(seed, offset, i);
    for (uint64_t j = 1; std::abs(z) > 1.0; ++j) {
      z = philox::normal(seed, offset + (j << 32), i);
      ++rejected;
    }
    REQUIRE(tv[i] == 2.0 * z);
  }
  REQUIRE(rejected > 100);  // at a 1-sigma bound about 32% of first attempts are rejected
}

TEST_CASE("random bf16 draws are the f32 draws rounded", "[ops][random]") {
  Tensor b = ops::random_normal({99}, Dtype::bf16, cpu, 4, 4);
  REQUIRE(b.dtype() == Dtype::bf16);
  Tensor f = ops::cast(ops::random_normal({99}, Dtype::f32, cpu, 4, 4), Dtype::bf16);
  REQUIRE(b.to_vector<float>() == f.to_vector<float>());
}

TEST_CASE("random errors name the op and the arguments", "[ops][random]") {
  REQUIRE_THROWS_WITH(ops::random_normal({2, 3}, Dtype::i32, cpu, 0, 0),
                      Catch::Contains("[random_normal]") && Catch::Contains("i32") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(ops::random_trunc_normal({4}, Dtype::f32, cpu, 0, uint64_t{1} << 32, 1.0),
                      Catch::Contains("[random_trunc_normal]") && Catch::Contains("2^32"));
  REQUIRE_THROWS_WITH(ops::random_trunc_normal({4}, Dtype::f32, cpu, 0, 0, 1.0, 0.1),
                      Catch::Contains("[random_trunc_normal]") && Catch::Contains("0.1"));
  REQUIRE_THROWS_WITH(ops::random_uniform({4}, Dtype::f32, cpu, 0, 0, 1.0, -1.0),
                      Catch::Contains("[random_uniform]") && Catch::Contains("lo 1"));
}
