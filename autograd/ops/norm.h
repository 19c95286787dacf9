// RMSNorm and LayerNorm over the last dimension, each one fused node with a hand-written backward
// (formulas, statistics precision and the deterministic parameter-gradient order are in kernels/norm.h).
// x (..., C); weight and bias (C), of x's dtype and device. y has x's shape and dtype.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

// y = x·rsqrt(mean_c x² + eps)·weight
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps);
// y = (x − mean_c x)·rsqrt(var_c x + eps)·weight + bias, with the biased (1/C) variance
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

}  // namespace tttlm::ops
