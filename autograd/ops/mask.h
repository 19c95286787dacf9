// Triangular masks over the last two dimensions of x (..., R, C); element (i, j) is "above the diagonal"
// when j - i > diagonal (diagonal 0 keeps the main diagonal, 1 keeps one more, -1 drops it).
// tril zeroes those elements; masked_fill_upper sets them to value (e.g. -inf for causal attention scores).
// Both are differentiable in x: the gradient is zero at the masked elements.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor masked_fill_upper(const Tensor& x, double value, int64_t diagonal = 0);

}  // namespace tttlm::ops
