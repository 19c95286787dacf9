// Rotary position embedding with interleaved pairs (2i, 2i+1) (docs/spec/ttt.md §2.1 RoPE; kernels/rope.h has the
// formula and the float32 angle recipe). x (..., T, D) with D even, positions (T) i32 or i64 on x's device:
// absolute positions t for attention, t mod mini_batch for TTT (§3.3). Differentiable in x; the backward
// rotates by the opposite angle.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor rope(const Tensor& x, const Tensor& positions, double theta = 10000.0);

}  // namespace tttlm::ops
