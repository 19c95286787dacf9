// Raw views: new view metadata over the same storage, no copy and no autograd. Differentiable versions of
// these live in autograd/ops/view.h and call these. Every function throws naming itself and the shape.
#pragma once

#include "core/tensor.h"

namespace tttlm::view {

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
// Elements [start, start+length) of dimension dim.
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Size-1 dimensions broadcast to `shape` with stride 0; new leading dimensions are added as needed.
Tensor expand(const Tensor& x, const Shape& shape);
// Same elements, new shape; x must be contiguous. One dimension may be -1.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// Index `index` of dimension `dim`, which is removed.
Tensor select(const Tensor& x, int64_t dim, int64_t index);

// Resolves a single -1 in `shape` against numel; throws when impossible.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op);

}  // namespace tttlm::view
