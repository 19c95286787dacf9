// Shapes and strides, and the one legend of dimension letters used in every shape comment:
//   B batch, T sequence, C model width, H heads, D head dim, V vocab, L layers, I MLP width,
//   mini_batch = the TTT inner-loop mini-batch size (never "b").
// Strides are in elements, not bytes. A Shape of rank 0 is a scalar with numel 1.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace tttlm {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Row-major (C order) strides for a shape.
inline Strides contiguous_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// "(2, 3)"; a scalar prints as "()".
inline std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + ")";
}

// Normalises a possibly negative dimension index; throws naming op when out of range.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// Shape that a and b broadcast to (numpy rules); throws naming op and both shapes otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace tttlm
