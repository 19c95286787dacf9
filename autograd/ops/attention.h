// Causal self-attention of the Transformer baseline (docs/spec/ttt.md §2.4), fused, and its naive reference.
// The fused op never forms a (T, T) matrix: forward keeps only the row logsumexp, backward recomputes the
// probabilities tile by tile (FlashAttention-2). Extra memory is O(B·H·T) beyond q, k, v and the output.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

// q, k, v: (B, H, T, D), one dtype (f32 or f64 on the CPU; f32, bf16 or f64 on CUDA) and one device;
// any strides (a view with a non-unit stride over D is copied first). scale is usually 1/sqrt(D).
// Returns o (B, H, T, D), contiguous: o[t] = Σ_{s<=t} softmax_s((q[t]·scale)·k[s]) · v[s], the softmax
// computed in f32 (f64 for f64). Backward saves q, k, v, o and the logsumexp (B, H, T).
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale);

// The same function computed naively: the full (B, H, T, T) probabilities in f64 loops, and its backward
// from them (dS = P ⊙ (dP − rowsum(P ⊙ dP))). Plain loops because tttlm has no exp or masking op yet; it
// runs on the CPU (other devices and dtypes go through differentiable casts and copies). Tests only.
Tensor causal_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, double scale);

}  // namespace tttlm::ops
