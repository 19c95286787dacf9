// Softmax and log-softmax over the last dimension, and the fused cross-entropy with its composed reference.
// Formulas, statistics precision and the treatment of targets are in kernels/softmax.h.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

// x (..., V) -> (..., V). Only the last dimension is supported (dim = -1 or ndim − 1); others throw.
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

// Per-position loss (...) = logsumexp(logits) − logits[target], from logits (..., V) and targets (...) of
// dtype i32 or i64. A target of -1 is ignored: its loss and its gradient are 0. On the CPU a target outside
// [-1, V) throws naming its position and value; on CUDA (unchecked, to avoid a sync) it gives a NaN loss.
// The loss is f64 for f64 logits, else f32 (also for bf16 logits). Fused: forward saves one logsumexp per
// row, backward rebuilds softmax − onehot from it; differentiable in logits only.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);

// The same loss composed of primitive ops, −Σ_v log_softmax(logits) ⊙ onehot(targets) (the test oracle of
// cross_entropy); the loss has the logits' dtype.
Tensor cross_entropy_reference(const Tensor& logits, const Tensor& targets);

}  // namespace tttlm::ops
