#include "autograd/ops/mask.h"

#include <algorithm>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"
#include "kernels/mask.h"

namespace tttlm::ops {

namespace {

struct MaskBackward final : autograd::Node {
  int64_t diagonal = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override { return {tril(grad_or_zeros(grads, 0), diagonal)}; }
  std::string name() const override { return "MaskBackward"; }
};

Tensor mask_upper(const Tensor& x, double value, int64_t diagonal, const char* op) {
  check_defined(op, "x", x);
  check_float(op, "x", x);
  TTT_CHECK(x.ndim() >= 2, "[", op, "] x must have shape (..., R, C), got ", x.describe());
  const int64_t R = x.size(-2), C = x.size(-1);
  // Outside [-R, C] the diagonal masks all or nothing; clamping keeps the kernels' index math in range.
  diagonal = std::clamp<int64_t>(diagonal, -R, C);
  Tensor xc = contiguous(x);
  const int64_t outer = R * C > 0 ? x.numel() / (R * C) : 0;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), mask_upper_fill, x.dtype(), xc.data_ptr(), y.data_ptr(), outer, R, C, diagonal, value);
  if (autograd::any_requires_grad({xc})) {
    auto node = std::make_shared<MaskBackward>();
    node->diagonal = diagonal;
    autograd::record(node, {xc}, {y});
  }
  return y;
}

}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return mask_upper(x, 0.0, diagonal, "tril"); }

Tensor masked_fill_upper(const Tensor& x, double value, int64_t diagonal) {
  return mask_upper(x, value, diagonal, "masked_fill_upper");
}

}  // namespace tttlm::ops
