// Softmax over the last dimension of a contiguous (rows, V) matrix, and the fused cross-entropy.
// Every row subtracts its maximum before exp (no overflow for any finite input). Row sums accumulate in
// double on the CPU and in the statistics dtype on CUDA (f64 for f64 data, else f32; never bf16).
// Cross-entropy forward keeps only the per-row logsumexp (never the probabilities); its backward rebuilds
// softmax − onehot from it in one pass. Targets are i32 or i64; -1 means "ignored" (loss 0, gradient 0); a
// target outside [-1, V) gives a NaN loss and NaN gradients (the ops reject such targets on the CPU first).
// CPU: f32, f64. CUDA: f32, bf16 (computed in f32), f64; one block per row.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {

enum class SoftmaxKind : uint8_t { softmax, log_softmax };

constexpr int64_t kIgnoreTarget = -1;

// The dtype of the cross-entropy loss and logsumexp for logits of `dtype`.
inline Dtype softmax_stats_dtype(Dtype dtype) { return dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32; }

}  // namespace tttlm::kernels

// The four kernels, in kernels::cpu and kernels::cuda:
//   softmax_forward:  y (rows, V) = softmax(x) or log_softmax(x) per row; y must not alias x.
//   softmax_backward: from the saved output y (rows, V), overwrites dx (rows, V):
//                     softmax dx = y ⊙ (dy − Σ_c dy ⊙ y); log_softmax dx = dy − exp(y)·Σ_c dy.
//   cross_entropy_forward: logits (rows, V) of dtype, targets (rows) of target_dtype; writes loss and lse
//                     (rows) in softmax_stats_dtype: lse = log Σ_c exp(logits), loss = lse − logits[target]
//                     (0 where the target is -1).
//   cross_entropy_backward: overwrites dlogits (rows, V) = dloss[r]·(exp(logits − lse[r]) − onehot(target[r])),
//                     0 on ignored rows; dloss and lse (rows) in softmax_stats_dtype.
TTT_KERNEL(softmax_forward, (SoftmaxKind kind, Dtype dtype, const void* x, void* y, int64_t rows, int64_t cols));
TTT_KERNEL(softmax_backward,
           (SoftmaxKind kind, Dtype dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols));
TTT_KERNEL(cross_entropy_forward, (Dtype dtype, const void* logits, Dtype target_dtype, const void* targets, void* loss,
                                   void* lse, int64_t rows, int64_t cols));
TTT_KERNEL(cross_entropy_backward, (Dtype dtype, const void* logits, Dtype target_dtype, const void* targets,
                                    const void* lse, const void* dloss, void* dlogits, int64_t rows, int64_t cols));
