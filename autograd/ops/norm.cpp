#include "autograd/ops/norm.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"
#include "kernels/norm.h"

namespace tttlm::ops {

namespace {

// center: LayerNorm (mean, bias); otherwise RMSNorm.
struct NormBackward final : autograd::Node {
  bool center = false;
  Tensor x, weight;   // x (..., C) contiguous, weight (C); detached
  Tensor mean, rstd;  // (rows), statistics dtype; mean only for LayerNorm
  int64_t rows = 0, cols = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dy = contiguous(cast(grad_or_zeros(grads, 0), x.dtype()));
    Tensor dx, dw, db;
    if (needs_input_grad(0)) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (needs_input_grad(1)) dw = Tensor::empty({cols}, x.dtype(), x.device());
    if (center && needs_input_grad(2)) db = Tensor::empty({cols}, x.dtype(), x.device());
    auto ptr = [](const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; };
    if (center) {
      TTT_DISPATCH(x.device(), layer_norm_backward, x.dtype(), x.data_ptr(), weight.data_ptr(), mean.data_ptr(),
                   rstd.data_ptr(), dy.data_ptr(), ptr(dx), ptr(dw), ptr(db), rows, cols);
    } else {
      TTT_DISPATCH(x.device(), rms_norm_backward, x.dtype(), x.data_ptr(), weight.data_ptr(), rstd.data_ptr(),
                   dy.data_ptr(), ptr(dx), ptr(dw), rows, cols);
    }
    if (center) return {dx, dw, db};
    return {dx, dw};
  }
  std::string name() const override { return center ? "LayerNormBackward" : "RmsNormBackward"; }
};

void check_norm_operands(const char* op, const Tensor& x, const Tensor& weight, const Tensor* bias, double eps) {
  check_defined(op, "x", x);
  check_defined(op, "weight", weight);
  if (bias) {
    check_defined(op, "bias", *bias);
    check_same_device(op, {{"x", &x}, {"weight", &weight}, {"bias", bias}});
    check_same_dtype(op, {{"x", &x}, {"weight", &weight}, {"bias", bias}});
  } else {
    check_same_device(op, {{"x", &x}, {"weight", &weight}});
    check_same_dtype(op, {{"x", &x}, {"weight", &weight}});
  }
  check_float(op, "x", x);
  auto operands = [&] {
    return bias ? describe_operands({{"x", &x}, {"weight", &weight}, {"bias", bias}})
                : describe_operands({{"x", &x}, {"weight", &weight}});
  };
  TTT_CHECK(x.ndim() >= 1 && x.size(-1) > 0, "[", op, "] x must have a non-empty last dimension; got ", operands());
  const int64_t C = x.size(-1);
  TTT_CHECK(weight.ndim() == 1 && weight.size(0) == C, "[", op, "] weight must have shape (", C,
            ") to match the last dimension of x; got ", operands());
  if (bias)
    TTT_CHECK(bias->ndim() == 1 && bias->size(0) == C, "[", op, "] bias must have shape (", C,
              ") to match the last dimension of x; got ", operands());
  TTT_CHECK(std::isfinite(eps) && eps >= 0, "[", op, "] eps must be finite and >= 0, got ", eps);
}

Tensor norm(bool center, const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = center ? "layer_norm" : "rms_norm";
  check_norm_operands(op, x, weight, center ? &bias : nullptr, eps);
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  Tensor xc = contiguous(x.detach()), wc = contiguous(weight.detach());
  Tensor bc = center ? contiguous(bias.detach()) : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const Dtype stats = kernels::norm_stats_dtype(x.dtype());
  Tensor rstd = Tensor::empty({rows}, stats, x.device());
  Tensor mean = center ? Tensor::empty({rows}, stats, x.device()) : Tensor();
  if (center) {
    TTT_DISPATCH(x.device(), layer_norm_forward, x.dtype(), xc.data_ptr(), wc.data_ptr(), bc.data_ptr(), y.data_ptr(),
                 mean.data_ptr(), rstd.data_ptr(), rows, cols, eps);
  } else {
    TTT_DISPATCH(x.device(), rms_norm_forward, x.dtype(), xc.data_ptr(), wc.data_ptr(), y.data_ptr(), rstd.data_ptr(),
                 rows, cols, eps);
  }
  std::vector<Tensor> inputs = center ? std::vector<Tensor>{x, weight, bias} : std::vector<Tensor>{x, weight};
  if (autograd::any_requires_grad(inputs)) {
    auto node = std::make_shared<NormBackward>();
    node->center = center;
    node->x = xc;
    node->weight = wc;
    node->mean = mean;
    node->rstd = rstd;
    node->rows = rows;
    node->cols = cols;
    autograd::record(node, inputs, {y});
  }
  return y;
}

}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) { return norm(false, x, weight, Tensor(), eps); }

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  return norm(true, x, weight, bias, eps);
}

}  // namespace tttlm::ops
