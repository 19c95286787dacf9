// Random fills from core/philox.h, the same values on the CPU and on CUDA. Element i of a draw keyed by
// (seed, offset) uses Philox counter (i, offset) and is computed by the host/device functions below, in
// double, then rounded once to the dtype (bf16 through float):
//   uniform:   fma(hi - lo, philox::uniform(seed, offset, i), lo)                       in [lo, hi]
//   normal:    fma(std, philox::normal(seed, offset, i), mean)
//   truncated: std * z, z = philox::normal(seed, offset + j * 2^32, i) for the first attempt j = 0, 1, ...
//              with |z| <= bound_in_std. Attempt j keeps the low 32 bits of the counter's high word (offset
//              must be < 2^32) and puts j in its high 32 bits, so attempts never reuse another draw's
//              counters. After kTruncAttempts rejections (probability < 1e-50 for bound_in_std >= 0.5,
//              which the op requires) z is clamped to the bound. `std` is the scale of the normal before
//              truncation (the result's std is smaller: 0.8796 std for bound 2).
// fma keeps the rounding identical on both devices (no compiler contraction can differ).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"
#include "core/philox.h"

namespace tttlm::kernels {

constexpr int kTruncAttempts = 256;

TTT_HOST_DEVICE inline double random_uniform_value(uint64_t seed, uint64_t offset, uint64_t i, double lo, double hi) {
  return fma(hi - lo, philox::uniform(seed, offset, i), lo);
}

TTT_HOST_DEVICE inline double random_normal_value(uint64_t seed, uint64_t offset, uint64_t i, double mean, double std) {
  return fma(std, philox::normal(seed, offset, i), mean);
}

TTT_HOST_DEVICE inline double random_trunc_normal_value(uint64_t seed, uint64_t offset, uint64_t i, double std,
                                                        double bound_in_std) {
  double z = 0;
  for (int j = 0; j < kTruncAttempts; ++j) {
    z = philox::normal(seed, offset + (static_cast<uint64_t>(j) << 32), i);
    if (fabs(z) <= bound_in_std) return std * z;
  }
  return std * (z < 0 ? -bound_in_std : bound_in_std);
}

}  // namespace tttlm::kernels

// out (n), contiguous; element i as documented above.
TTT_KERNEL(random_uniform, (Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi));
TTT_KERNEL(random_normal, (Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std));
TTT_KERNEL(random_trunc_normal,
           (Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double std, double bound_in_std));
