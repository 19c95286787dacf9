// Random tensors from Philox (core/philox.h), identical on the CPU and on CUDA: element i (row-major) of a
// draw with (seed, offset) uses counter (i, offset); the exact formulas, including the truncated normal's
// rejection scheme (attempt j uses offset + j * 2^32), are in kernels/random.h. Use a distinct offset (or
// seed) per tensor. dtype f32, bf16 (rounded from the f32 value) or f64. Results do not require grad.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tttlm::ops {

// mean + std * N(0, 1).
Tensor random_normal(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double mean = 0.0,
                     double std = 1.0);
// lo + (hi - lo) * U(0, 1), in [lo, hi] (hi itself only through rounding).
Tensor random_uniform(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double lo = 0.0,
                      double hi = 1.0);
// std * z with z ~ N(0, 1) conditioned on |z| <= bound_in_std (>= 0.5); offset must be < 2^32.
Tensor random_trunc_normal(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double std,
                           double bound_in_std = 2.0);

}  // namespace tttlm::ops
