#include "autograd/ops/cumsum.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/cumsum.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

Tensor scan(const Tensor& x, int64_t dim, kernels::ScanDirection direction);

struct CumsumBackward final : autograd::Node {
  int64_t dim = 0;
  kernels::ScanDirection direction = kernels::ScanDirection::forward;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    auto back = direction == kernels::ScanDirection::forward ? kernels::ScanDirection::reverse
                                                             : kernels::ScanDirection::forward;
    return {scan(grad_or_zeros(grads, 0), dim, back)};
  }
  std::string name() const override { return "CumsumBackward"; }
};

// dim is already normalised. Differentiable in both directions (so the backward is too).
Tensor scan(const Tensor& x, int64_t dim, kernels::ScanDirection direction) {
  Tensor xc = contiguous(x);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (int64_t d = dim + 1; d < x.ndim(); ++d) inner *= x.shape()[d];
  const int64_t n = x.shape()[dim];
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), cumsum_forward, x.dtype(), xc.data_ptr(), y.data_ptr(), outer, n, inner, direction);
  if (autograd::any_requires_grad({xc})) {
    auto node = std::make_shared<CumsumBackward>();
    node->dim = dim;
    node->direction = direction;
    autograd::record(node, {xc}, {y});
  }
  return y;
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  check_defined("cumsum", "x", x);
  check_float("cumsum", "x", x);
  TTT_CHECK(x.ndim() >= 1, "[cumsum] x must have at least one dimension, got ", x.describe());
  return scan(x, normalize_dim(dim, x.ndim(), "cumsum"), kernels::ScanDirection::forward);
}

}  // namespace tttlm::ops
