// Reductions over dimensions. An empty `dims` list reduces over all dimensions. keepdim keeps each
// reduced dimension with size 1. Sums are deterministic (fixed order; see kernels/reduce.h).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace tttlm::ops {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Maximum over one dimension; the gradient goes to the first maximal element.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace tttlm::ops
