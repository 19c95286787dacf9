// Branch-free f32 exp and tanh for the CPU kernels. libm's expf and tanhf are calls that GCC cannot
// vectorise; these are straight-line code with selects only, so loops over them vectorise (AVX-512 on the
// build machine). Used by the selective scan and attention (fast_exp) and the TTT dual form (fast_tanhf).
// CPU only: CUDA kernels call the device's expf/tanh, so under nvcc this header declares nothing.
#pragma once

#if !defined(__CUDACC__)

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace tttlm::kernels {

// Always inlined: a call left in a loop body stops g++ vectorising the loop (kernels/ttt_dual.h's
// TTT_SCALAR says what happened to TTT-MLP when g++ declined to inline fast_tanhf).
#define TTT_FAST_MATH_INLINE inline __attribute__((always_inline))

// What fast_exp does outside the range of its polynomial, and the order of its last product; each kernel
// keeps the variant it was validated with, so its results stay bit for bit what they were:
//   state:  x clamped to [-87, 88] first, so exp(-87) ≈ 1.6e-38 stands in for anything smaller. The
//           selective scan's decay exp(Δ·A) has finite inputs and only ever multiplies a state, where that
//           is as good as 0, and the clamp is cheaper than the checks below.
//   masked: x below −87.3 (−inf included) gives exactly 0, NaN stays NaN. Attention relies on exp(−inf) = 0
//           for masked scores and for the first rescale of a row (running maximum −inf).
// The last step is 1 + r + p(r)·r² with the product as p·(r·r) for `state` and (p·r)·r for `masked`. Both
// are about 1 ulp; they differ in the last bit on 1.24 million of the 2^32 floats in [-87, 88], so
// unifying them would move the scan's or attention's results by that much.
enum class ExpVariant : uint8_t { state, masked };

// exp(x) = 2^k · exp(r): k = rint(x·log2 e) (adding and subtracting 1.5·2^23 rounds to nearest, which
// vectorises where std::floor does not under trapping math), r = x − k·ln 2 with ln 2 split in two so that
// k·ln2_hi is exact (Cephes expf), exp(r) = 1 + r + r²·p(r) with Cephes' degree-5 p, and 2^k from the
// exponent bits. Explicit fma throughout, so the result does not depend on the compiler's contraction.
template <ExpVariant V>
TTT_FAST_MATH_INLINE float fast_exp(float x) {
  const bool nan = V == ExpVariant::masked && !(x == x);
  const float xc =
      V == ExpVariant::state ? std::min(std::max(x, -87.0f), 88.0f) : (nan ? 0.0f : std::clamp(x, -88.0f, 88.0f));
  constexpr float kRound = 12582912.0f;  // 1.5·2^23
  const float k = std::fma(xc, 1.44269504088896341f, kRound) - kRound;
  float r = std::fma(k, -0.693359375f, xc);
  r = std::fma(k, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  const float e = (V == ExpVariant::state ? std::fma(p, r * r, r) : std::fma(p * r, r, r)) + 1.0f;
  const float y = e * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
  if constexpr (V == ExpVariant::state)
    return y;
  else
    return nan ? x : (xc < -87.3f ? 0.0f : y);
}
// f64 kernels call the same name and get libm's exp (they are not vectorised for speed).
template <ExpVariant V>
inline double fast_exp(double x) {
  return std::exp(x);
}

// tanh for f32, branch-free so that an `omp simd` loop of it vectorises (libm's tanhf does not, and
// dominated TTT-MLP). Within 1.3 ulp of tanh over the floats: Taylor series to x^21 below 0.625, else
// 1 − 2/(e^{2|x|} + 1) with e^y = 2^n·e^r (Cody-Waite reduction, degree-7 Taylor polynomial). That exp is
// not fast_exp: its input is known to lie in [0, 20], and fast_exp in its place changes tanh in the last bit
// on 638,756 of the 2^32 floats, so TTT-MLP's results would move.
TTT_FAST_MATH_INLINE float fast_tanhf(float x) {
  const float ax = std::fabs(x) < 10.f ? std::fabs(x) : 10.f;  // tanh(10) rounds to 1
  const float s = ax * ax;
  float p = 18888466084.f / 194896477400625.f;
  p = p * s - 443861162.f / 1856156927625.f;
  p = p * s + 6404582.f / 10854718875.f;
  p = p * s - 929569.f / 638512875.f;
  p = p * s + 21844.f / 6081075.f;
  p = p * s - 1382.f / 155925.f;
  p = p * s + 62.f / 2835.f;
  p = p * s - 17.f / 315.f;
  p = p * s + 2.f / 15.f;
  p = p * s - 1.f / 3.f;
  const float small = ax + ax * s * p;
  const float y = 2.f * ax;
  const float n = std::nearbyint(y * 1.44269504088896341f);
  const float r = (y - n * 0.693145751953125f) - n * 1.42860682030941723212e-6f;
  float e = 1.f / 5040.f;
  e = e * r + 1.f / 720.f;
  e = e * r + 1.f / 120.f;
  e = e * r + 1.f / 24.f;
  e = e * r + 1.f / 6.f;
  e = e * r + 0.5f;
  e = e * r + 1.f;
  e = e * r + 1.f;
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  const float large = 1.f - 2.f / (e * scale + 1.f);
  const float t = std::copysign(ax < 0.625f ? small : large, x);
  return x != x ? x : t;  // NaN stays NaN
}

}  // namespace tttlm::kernels

#endif  // !defined(__CUDACC__)
