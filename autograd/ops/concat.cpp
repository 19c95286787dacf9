#include "autograd/ops/concat.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/view.h"
#include "core/view.h"
#include "kernels/copy.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

void write_into(const Tensor& dst_view, const Tensor& src) {
  TTT_DISPATCH(src.device(), copy_into, src.dtype(), src.data_ptr(), desc_of(src), dst_view.data_ptr(),
               desc_of(dst_view), src.numel());
}

struct ConcatBackward final : autograd::Node {
  int64_t dim;
  std::vector<int64_t> sizes;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<Tensor> out;
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      out.push_back(needs_input_grad(i) ? narrow(g[0], dim, start, sizes[i]) : Tensor());
      start += sizes[i];
    }
    return out;
  }
  std::string name() const override { return "ConcatBackward"; }
};

struct PadBackward final : autograd::Node {
  int64_t dim, before, length;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {narrow(g[0], dim, before, length)}; }
  std::string name() const override { return "PadBackward"; }
};

}  // namespace

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  TTT_CHECK(!xs.empty(), "[concat] needs at least one tensor");
  const Tensor& x0 = xs[0];
  int64_t d = normalize_dim(dim, x0.ndim(), "concat");
  Shape shape = x0.shape();
  shape[d] = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool ok = x.ndim() == x0.ndim() && x.dtype() == x0.dtype() && x.device() == x0.device();
    for (int64_t k = 0; ok && k < x.ndim(); ++k) ok = k == d || x.shape()[k] == x0.shape()[k];
    TTT_CHECK(ok, "[concat] tensor ", i, " (", x.describe(), ") does not match tensor 0 (", x0.describe(),
              ") outside dimension ", d);
    sizes.push_back(x.shape()[d]);
    shape[d] += x.shape()[d];
  }
  Tensor out = Tensor::empty(shape, x0.dtype(), x0.device());
  int64_t start = 0;
  for (const auto& x : xs) {
    write_into(view::narrow(out, d, start, x.shape()[d]), x);
    start += x.shape()[d];
  }
  if (autograd::any_requires_grad(xs)) {
    auto node = std::make_shared<ConcatBackward>();
    node->dim = d;
    node->sizes = sizes;
    autograd::record(node, xs, {out});
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  int64_t d = normalize_dim(dim, x.ndim(), "split");
  int64_t total = 0;
  for (auto s : sizes) total += s;
  TTT_CHECK(total == x.shape()[d], "[split] sizes sum to ", total, " but dimension ", d, " of ", x.describe(), " has ",
            x.shape()[d]);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (auto s : sizes) {
    out.push_back(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

Tensor pad_dim(const Tensor& x, int64_t dim, int64_t before, int64_t after) {
  int64_t d = normalize_dim(dim, x.ndim(), "pad_dim");
  TTT_CHECK(before >= 0 && after >= 0, "[pad_dim] negative padding ", before, ", ", after);
  Shape shape = x.shape();
  shape[d] += before + after;
  Tensor out = Tensor::zeros(shape, x.dtype(), x.device());
  write_into(view::narrow(out, d, before, x.shape()[d]), x);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<PadBackward>();
    node->dim = d;
    node->before = before;
    node->length = x.shape()[d];
    autograd::record(node, {x}, {out});
  }
  return out;
}

}  // namespace tttlm::ops
