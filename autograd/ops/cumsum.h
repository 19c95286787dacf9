// Inclusive prefix sum along one dimension: y[..., j, ...] = sum_{q <= j} x[..., q, ...]. Differentiable;
// the backward is the reverse (suffix) sum of the gradient. Deterministic (sequential along dim).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor cumsum(const Tensor& x, int64_t dim);

}  // namespace tttlm::ops
