#include "core/view.h"

#include <algorithm>

namespace tttlm::view {

namespace {
Tensor make_view(const Tensor& x, Shape shape, Strides strides, int64_t offset) {
  return Tensor::from_storage(x.storage(), shape, strides, offset, x.dtype());
}
}  // namespace

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  int64_t a = normalize_dim(dim0, x.ndim(), "transpose"), b = normalize_dim(dim1, x.ndim(), "transpose");
  Shape s = x.shape();
  Strides st = x.strides();
  std::swap(s[a], s[b]);
  std::swap(st[a], st[b]);
  return make_view(x, s, st, x.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  TTT_CHECK(static_cast<int64_t>(dims.size()) == x.ndim(), "[permute] ", dims.size(),
            " dimensions given for a tensor of shape ", shape_str(x.shape()));
  Shape s(dims.size());
  Strides st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = normalize_dim(dims[i], x.ndim(), "permute");
    TTT_CHECK(!seen[d], "[permute] dimension ", d, " repeated in the permutation of ", shape_str(x.shape()));
    seen[d] = true;
    s[i] = x.shape()[d];
    st[i] = x.strides()[d];
  }
  return make_view(x, s, st, x.offset());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = normalize_dim(dim, x.ndim(), "narrow");
  TTT_CHECK(start >= 0 && length >= 0 && start + length <= x.shape()[d], "[narrow] range [", start, ", ",
            start + length, ") out of bounds for dimension ", d, " of shape ", shape_str(x.shape()));
  Shape s = x.shape();
  s[d] = length;
  return make_view(x, s, x.strides(), x.offset() + start * x.strides()[d]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  TTT_CHECK(shape.size() >= x.shape().size(), "[expand] cannot expand ", shape_str(x.shape()), " to ",
            shape_str(shape));
  size_t lead = shape.size() - x.shape().size();
  Strides st(shape.size(), 0);
  for (size_t i = 0; i < x.shape().size(); ++i) {
    int64_t have = x.shape()[i], want = shape[lead + i];
    TTT_CHECK(have == want || have == 1, "[expand] cannot expand ", shape_str(x.shape()), " to ", shape_str(shape),
              " (dimension ", lead + i, ")");
    st[lead + i] = have == want ? x.strides()[i] : 0;
  }
  return make_view(x, shape, st, x.offset());
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      TTT_CHECK(infer < 0, "[", op, "] only one dimension may be -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    TTT_CHECK(known > 0 && numel % known == 0, "[", op, "] cannot infer -1 in ", shape_str(shape), " for ", numel,
              " elements");
    s[infer] = numel / known;
  }
  TTT_CHECK(shape_numel(s) == numel, "[", op, "] shape ", shape_str(shape), " does not hold ", numel, " elements");
  return s;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  TTT_CHECK(x.is_contiguous(), "[reshape] a view needs a contiguous tensor, got ", x.describe(), " with strides ",
            shape_str(x.strides()));
  Shape s = infer_shape(shape, x.numel(), "reshape");
  return make_view(x, s, contiguous_strides(s), x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = dim < 0 ? dim + x.ndim() + 1 : dim;
  TTT_CHECK(d >= 0 && d <= x.ndim(), "[unsqueeze] dimension ", dim, " out of range for ", shape_str(x.shape()));
  Shape s = x.shape();
  Strides st = x.strides();
  int64_t stride = d < x.ndim() ? x.strides()[d] * x.shape()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return make_view(x, s, st, x.offset());
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim(dim, x.ndim(), "squeeze");
  TTT_CHECK(x.shape()[d] == 1, "[squeeze] dimension ", d, " of ", shape_str(x.shape()), " is not 1");
  Shape s = x.shape();
  Strides st = x.strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return make_view(x, s, st, x.offset());
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = normalize_dim(dim, x.ndim(), "select");
  TTT_CHECK(index >= 0 && index < x.shape()[d], "[select] index ", index, " out of range for dimension ", d, " of ",
            shape_str(x.shape()));
  Shape s = x.shape();
  Strides st = x.strides();
  int64_t off = x.offset() + index * st[d];
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return make_view(x, s, st, off);
}

}  // namespace tttlm::view
