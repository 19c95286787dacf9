#include "autograd/ops/view.h"

#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/reduce.h"
#include "core/view.h"

namespace tttlm::ops {

namespace {

struct ViewBackward final : autograd::Node {
  std::string op;
  std::function<Tensor(const Tensor&)> back;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {back(g[0])}; }
  std::string name() const override { return op + "Backward"; }
};

Tensor finish(const char* op, const Tensor& x, Tensor out, std::function<Tensor(const Tensor&)> back) {
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<ViewBackward>();
    node->op = op;
    node->back = std::move(back);
    autograd::record(node, {x}, {out});
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor c = contiguous(x);
  Shape in = x.shape();
  Tensor out = view::reshape(c.detach(), shape);
  return finish("Reshape", c, out, [in](const Tensor& g) { return reshape(g, in); });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return finish("Transpose", x, view::transpose(x.detach(), dim0, dim1),
                [dim0, dim1](const Tensor& g) { return transpose(g, dim0, dim1); });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor out = view::permute(x.detach(), dims);
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[normalize_dim(dims[i], x.ndim(), "permute")] = i;
  return finish("Permute", x, out, [inv](const Tensor& g) { return permute(g, inv); });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Tensor out = view::narrow(x.detach(), dim, start, length);
  int64_t d = normalize_dim(dim, x.ndim(), "narrow");
  int64_t total = x.shape()[d];
  return finish("Narrow", x, out,
                [d, start, length, total](const Tensor& g) { return pad_dim(g, d, start, total - start - length); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Shape in = x.shape();
  return finish("Expand", x, view::expand(x.detach(), shape), [in](const Tensor& g) { return sum_to(g, in); });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  Shape in = x.shape();
  return finish("Unsqueeze", x, view::unsqueeze(x.detach(), dim), [in](const Tensor& g) { return reshape(g, in); });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  Shape in = x.shape();
  return finish("Squeeze", x, view::squeeze(x.detach(), dim), [in](const Tensor& g) { return reshape(g, in); });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = normalize_dim(dim, x.ndim(), "select");
  return squeeze(narrow(x, d, index, 1), d);
}

}  // namespace tttlm::ops
