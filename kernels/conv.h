// Depthwise causal 1-D convolution over time (docs/spec/ttt.md §2.1 CausalConv), all buffers contiguous:
//   y[b, t, c] = bias[c] + sum_{k=0}^{K-1} weight[k, c] * x[b, t-K+1+k, c],  x at negative time = 0,
// a cross-correlation (not flipped): weight[K-1] multiplies the current token. Channels are independent,
// so kernels run along C (the contiguous axis). Gradients are overwritten. dweight and dbias sum over
// (b, t) in a fixed order (CPU: fixed row blocks in double, blocks in order; CUDA: fixed row chunks, then
// chunks in order), so results do not depend on the thread count and repeat bit for bit.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

// x (B, T, C), weight (K, C), bias (C) -> y (B, T, C).
TTT_KERNEL(causal_conv1d_forward, (Dtype dtype, const void* x, const void* weight, const void* bias, void* y, int64_t B,
                                   int64_t T, int64_t C, int64_t K));
// dy (B, T, C) -> dx (B, T, C), dweight (K, C), dbias (C); any output may be null (not computed).
TTT_KERNEL(causal_conv1d_backward, (Dtype dtype, const void* dy, const void* x, const void* weight, void* dx,
                                    void* dweight, void* dbias, int64_t B, int64_t T, int64_t C, int64_t K));
