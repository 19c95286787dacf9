// Mixed-precision linear map: x (..., K) · weight (K, N) with bf16 inputs, f32 accumulation and an f32
// result (docs/precision.md). `weight_bf16` is the bf16 copy of `weight` that the parameter store keeps
// (layers/low_precision.h: refreshed after each optimizer step, never converted per use); it must have
// weight's shape and is read only. x is converted to bf16 here; that bf16 copy is what backward keeps.
// Backward runs the two gradient products in bf16 as well (the output gradient converted once) and returns
// f32 gradients for x and for `weight` (the f32 master, which is the recorded input, so a transposed view
// such as the tied LM head's passes its gradient back through the view as usual).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor linear_bf16(const Tensor& x, const Tensor& weight, const Tensor& weight_bf16);

}  // namespace tttlm::ops
