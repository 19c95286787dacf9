// Fused causal self-attention (FlashAttention-2, arXiv 2307.08691): scores, softmax and P·V are computed
// tile by tile with an online softmax, so no (T, T) matrix ever exists; forward saves only the per-row
// logsumexp, and backward recomputes P tile by tile. docs/spec/ttt.md §2.4: s = (q·scale)·kᵀ (q is scaled
// before the product, as in JAX), key index <= query index, softmax in f32 (f64 for f64 inputs).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {

// q, k, v: (B, H, T, D) views with unit stride over D; *_stride give the strides (in elements) of the
// B, H and T dimensions, so permuted views of a (B, T, H, D) projection need no copy.
struct AttentionArgs {
  int64_t batch = 0, heads = 0, seq = 0, dim = 0;  // B, H, T, D
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t q_stride[3] = {0, 0, 0};
  int64_t k_stride[3] = {0, 0, 0};
  int64_t v_stride[3] = {0, 0, 0};
  double scale = 1.0;
};

}  // namespace tttlm::kernels

// All other buffers are contiguous. The statistics lse and delta are (B, H, T) in the accumulation type:
// f64 for f64 inputs, f32 otherwise (bf16 included).
//
// CPU: tiles of 64 queries x 64 keys through kernels::cpu::gemm. OpenMP over (B, H, query tile) for the
// forward. Backward: over (B, H) when B·H is a multiple of the thread count or at least 4 times it (dq is
// then accumulated in the same pass), else over (B, H, key tile) for dk, dv and (B, H, query tile) for dq.
// Each output element is written by one thread, adding the same blocks in the same order either way, so
// results do not depend on the thread count. Scratch: a few tiles per thread. f32, f64.
// CUDA: one block per (B·H, query tile) for the forward and dq, per (B·H, key tile) for dk and dv; tiles
// pass through shared memory, f32 accumulation (f64 for f64), no atomics (deterministic). f32, bf16, f64.

// out (B, H, T, D) = softmax_causal((q·scale)·kᵀ)·v; lse (B, H, T) = the row logsumexp of the masked scores.
// Both overwritten.
TTT_KERNEL(causal_attention_forward, (Dtype dtype, const AttentionArgs& args, void* out, void* lse));
// Gradients of the forward above given dout (B, H, T, D) and forward's out and lse. delta (B, H, T) is
// scratch (it receives rowsum(dout ⊙ out)). dq, dk, dv (B, H, T, D) are overwritten.
TTT_KERNEL(causal_attention_backward, (Dtype dtype, const AttentionArgs& args, const void* out, const void* dout,
                                       const void* lse, void* delta, void* dq, void* dk, void* dv));
