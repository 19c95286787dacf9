// Concatenation along a dimension, its inverse split, and zero padding along a dimension.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace tttlm::ops {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Views of x of the given sizes along dim (sizes must sum to x.size(dim)).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// x with `before` zeros in front and `after` zeros behind along dim.
Tensor pad_dim(const Tensor& x, int64_t dim, int64_t before, int64_t after);

}  // namespace tttlm::ops
