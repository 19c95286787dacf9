// Embedding lookup: weight (V, C), ids (...) i32 or i64 on weight's device -> (..., C). Differentiable in
// weight; the backward scatter-adds into dweight (V, C) deterministically on the CPU and on CUDA (no float
// atomics; kernels/embedding.h). On the CPU an id outside [0, V) throws naming its position and value;
// on CUDA it is not checked (it yields a zero row and no gradient).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor embedding(const Tensor& weight, const Tensor& ids);

}  // namespace tttlm::ops
