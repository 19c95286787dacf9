// Rotary position embedding with INTERLEAVED pairs (2i, 2i+1), i = 0..D/2-1 (docs/spec/ttt.md §2.1 RoPE):
//   omega_i = theta^(-2i/D), a = p * omega_i, (x0, x1) -> (x0 cos a - x1 sin a, x0 sin a + x1 cos a).
// x and y are contiguous (rows, T, D) with D even; positions (T) are i32 or i64, shared by all rows.
// The inverse direction rotates by -a (the backward pass). The angle is built in float32 as JAX does
// (numpy float32 tables): e = f32(2i) / f32(D), omega = 1 / f32(theta^e), a = f32(p) * omega; pow, cos
// and sin are evaluated in double and rounded once, so CPU and CUDA get the same table.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"
#include "core/philox.h"  // TTT_HOST_DEVICE

namespace tttlm::kernels {

enum class RopeDirection : uint8_t { forward, inverse };

// cos and sin of the angle of pair i at position p (float32, identical on host and device).
TTT_HOST_DEVICE inline void rope_cos_sin(int64_t p, int64_t i, int64_t D, float theta, float& c, float& s) {
  const float e = static_cast<float>(2 * i) / static_cast<float>(D);
  const float pw = static_cast<float>(pow(static_cast<double>(theta), static_cast<double>(e)));
  const float omega = 1.0f / pw;
  const float a = static_cast<float>(p) * omega;
  c = static_cast<float>(cos(static_cast<double>(a)));
  s = static_cast<float>(sin(static_cast<double>(a)));
}

}  // namespace tttlm::kernels

// y (rows, T, D) = x rotated pairwise by positions (T); y may equal x.
TTT_KERNEL(rope_forward, (Dtype dtype, Dtype pos_dtype, const void* x, const void* positions, void* y, int64_t rows,
                          int64_t T, int64_t D, float theta, RopeDirection direction));
