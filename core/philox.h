// Philox4x32-10 counter-based RNG (Salmon et al., SC'11, "Parallel random numbers: as easy as 1, 2, 3").
// Header-only and usable from CUDA device code, so the CPU and the GPU produce the same bits for the same
// (key, counter). tttlm keys streams by (seed, purpose) and counts elements, so a tensor's random values
// do not depend on the thread count, the device, or how the work was split.
//
// Element i of a draw with (seed, offset) uses counter (i, offset): uniform() takes word 0, normal() takes
// words 0 and 1 through Box-Muller computed in double precision (so CPU and GPU agree except for ties in
// the final rounding to float).
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define TTT_HOST_DEVICE __host__ __device__
#else
#define TTT_HOST_DEVICE
#endif

namespace tttlm::philox {

struct U32x4 {
  uint32_t x[4];
};

TTT_HOST_DEVICE inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// The 10-round Philox4x32 bijection of a 128-bit counter under a 64-bit key.
TTT_HOST_DEVICE inline U32x4 philox4x32(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c0, hi0, lo0);
    mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1): (u + 0.5) / 2^32, exact in double, rounded once to float by callers.
TTT_HOST_DEVICE inline double uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  U32x4 r = philox4x32(i, offset, seed);
  return (static_cast<double>(r.x[0]) + 0.5) * (1.0 / 4294967296.0);
}

// Standard normal (Box-Muller on words 0 and 1).
TTT_HOST_DEVICE inline double normal(uint64_t seed, uint64_t offset, uint64_t i) {
  U32x4 r = philox4x32(i, offset, seed);
  double u1 = (static_cast<double>(r.x[0]) + 0.5) * (1.0 / 4294967296.0);
  double u2 = (static_cast<double>(r.x[1]) + 0.5) * (1.0 / 4294967296.0);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace tttlm::philox
