// Depthwise causal 1-D convolution over time (docs/spec/ttt.md §2.1 CausalConv; kernels/conv.h has the formula):
// x (B, T, C), weight (K, C), bias (C) -> y (B, T, C); weight[K-1] multiplies the current token and times
// before 0 read zeros. Differentiable in x, weight and bias; the weight and bias gradients are
// deterministic (fixed summation order).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace tttlm::ops
