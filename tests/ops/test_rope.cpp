#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/rope.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// Angle of pair i at position p. float_table: JAX's numpy float32 recipe (theta^e rounded to float, then
// 1/x and p*omega in float); otherwise everything in double.
double angle(int64_t p, int64_t i, int64_t D, double theta, bool float_table) {
  if (!float_table) return static_cast<double>(p) * std::pow(theta, -2.0 * i / D);
  float e = static_cast<float>(2 * i) / static_cast<float>(D);
  float pw = static_cast<float>(std::pow(static_cast<double>(static_cast<float>(theta)), static_cast<double>(e)));
  float omega = 1.0f / pw;
  return static_cast<double>(static_cast<float>(p) * omega);
}

// Rotates each interleaved pair (2i, 2i+1) of x (..., T, D) by sign * angle, in double (cos and sin rounded
// to float when float_table).
Tensor reference_rope(const Tensor& x, const std::vector<int64_t>& pos, double theta, double sign = 1.0,
                      bool float_table = true) {
  const int64_t T = x.size(-2), D = x.size(-1), rows = x.numel() / (T * D);
  auto xv = x.to_vector<double>();
  std::vector<double> y(xv.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < D / 2; ++i) {
        double a = angle(pos[t], i, D, theta, float_table);
        double c = std::cos(a), s = sign * std::sin(a);
        if (float_table) {  // the table is complex64
          c = static_cast<float>(c);
          s = sign * static_cast<float>(std::sin(a));
        }
        int64_t o = (r * T + t) * D + 2 * i;
        y[o] = xv[o] * c - xv[o + 1] * s;
        y[o + 1] = xv[o] * s + xv[o + 1] * c;
      }
  return Tensor::from_vector(y, x.shape());
}

Tensor positions_tensor(const std::vector<int64_t>& pos, Dtype dtype) {
  if (dtype == Dtype::i64) return Tensor::from_vector(pos, {static_cast<int64_t>(pos.size())});
  std::vector<int32_t> p32(pos.begin(), pos.end());
  return Tensor::from_vector(p32, {static_cast<int64_t>(pos.size())});
}

}  // namespace

TEST_CASE("rope forward rotates interleaved pairs", "[ops][rope]") {
  auto pos_dtype = GENERATE(Dtype::i32, Dtype::i64);
  auto dtype = GENERATE(Dtype::f32, Dtype::f64);
  // (B, H, T, D) with absolute positions, and with positions t mod mini_batch as TTT uses.
  std::vector<int64_t> absolute = {0, 1, 2, 3, 4, 5, 6}, modulo = {0, 1, 2, 0, 1, 2, 0};
  for (const auto& pos : {absolute, modulo}) {
    Tensor x = randn({2, 3, 7, 10}, 1, dtype);
    double tol = dtype == Dtype::f32 ? 1e-5 : 1e-12;
    require_close(ops::rope(x, positions_tensor(pos, pos_dtype), 10000.0), reference_rope(x, pos, 10000.0), tol, tol);
  }
}

TEST_CASE("rope forward builds its angles in float32 as JAX does", "[ops][rope]") {
  // At position 3000 the float32 and double angle tables differ by ~1e-4 rad; f64 x exposes which one ran.
  std::vector<int64_t> pos = {3000, 2999, 1};
  Tensor x = randn({1, 3, 8}, 2, Dtype::f64);
  Tensor y = ops::rope(x, positions_tensor(pos, Dtype::i64), 500.0);
  require_close(y, reference_rope(x, pos, 500.0, 1.0, true), 1e-6, 0, "float32 table");
  Tensor dbl = reference_rope(x, pos, 500.0, 1.0, false);
  double max_diff = 0;
  auto yv = y.to_vector<double>(), dv = dbl.to_vector<double>();
  for (size_t i = 0; i < yv.size(); ++i) max_diff = std::max(max_diff, std::abs(yv[i] - dv[i]));
  REQUIRE(max_diff > 1e-5);
}

TEST_CASE("rope forward accepts a non-contiguous x", "[ops][rope]") {
  Tensor xbthd = randn({2, 5, 3, 6}, 3);   // (B, T, H, D)
  Tensor x = ops::transpose(xbthd, 1, 2);  // (B, H, T, D)
  REQUIRE_FALSE(x.is_contiguous());
  std::vector<int64_t> pos = {4, 0, 3, 1, 2};
  require_close(ops::rope(x, positions_tensor(pos, Dtype::i64), 10000.0), reference_rope(x, pos, 10000.0), 1e-5, 1e-5);
}

TEST_CASE("rope backward rotates by the opposite angle", "[ops][rope]") {
  std::vector<int64_t> pos = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2};
  Tensor x = req(randn({2, 11, 14}, 4, Dtype::f64));
  Tensor dy = randn({2, 11, 14}, 5, Dtype::f64);
  autograd::backward({ops::rope(x, positions_tensor(pos, Dtype::i32), 10000.0)}, {dy});
  require_close(x.grad(), reference_rope(dy, pos, 10000.0, -1.0), 1e-12, 1e-12);
}

TEST_CASE("rope gradcheck", "[ops][rope]") {
  require_gradcheck(
      [](auto& in) {
        return ops::rope(in[0], positions_tensor({2, 0, 1, 7, 5}, Dtype::i64), 100.0);
      },
      {req(randn({3, 5, 6}, 6, Dtype::f64))});
}

TEST_CASE("rope errors name the op and the shapes", "[ops][rope]") {
  Tensor pos = positions_tensor({0, 1, 2, 3, 4}, Dtype::i64);
  REQUIRE_THROWS_WITH(ops::rope(randn({2, 5, 7}, 1), pos, 10000.0),
                      Catch::Contains("[rope]") && Catch::Contains("even") && Catch::Contains("(2, 5, 7)"));
  REQUIRE_THROWS_WITH(ops::rope(randn({2, 4, 6}, 2), pos, 10000.0),
                      Catch::Contains("[rope]") && Catch::Contains("(2, 4, 6)") && Catch::Contains("i64 (5)"));
  REQUIRE_THROWS_WITH(ops::rope(randn({2, 5, 6}, 3), randn({5}, 4), 10000.0),
                      Catch::Contains("[rope]") && Catch::Contains("i32 or i64") && Catch::Contains("f32 (5)"));
}
