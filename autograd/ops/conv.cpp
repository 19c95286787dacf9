#include "autograd/ops/conv.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/conv.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

struct CausalConv1dBackward final : autograd::Node {
  Tensor x, weight;  // x: (B, T, C), weight: (K, C), both contiguous
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dy = contiguous(grad_or_zeros(grads, 0)).detach();
    const int64_t B = x.size(0), T = x.size(1), C = x.size(2), K = weight.size(0);
    Tensor dx, dweight, dbias;
    if (needs_input_grad(0)) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (needs_input_grad(1)) dweight = Tensor::empty(weight.shape(), x.dtype(), x.device());
    if (needs_input_grad(2)) dbias = Tensor::empty({C}, x.dtype(), x.device());
    auto ptr = [](const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; };
    TTT_DISPATCH(x.device(), causal_conv1d_backward, x.dtype(), dy.data_ptr(), x.data_ptr(), weight.data_ptr(), ptr(dx),
                 ptr(dweight), ptr(dbias), B, T, C, K);
    return {dx, dweight, dbias};
  }
  std::string name() const override { return "CausalConv1dBackward"; }
};

}  // namespace

Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined("causal_conv1d", "x", x);
  check_defined("causal_conv1d", "weight", weight);
  check_defined("causal_conv1d", "bias", bias);
  const std::initializer_list<std::pair<const char*, const Tensor*>> operands = {
      {"x", &x}, {"weight", &weight}, {"bias", &bias}};
  TTT_CHECK(x.ndim() == 3 && weight.ndim() == 2 && bias.ndim() == 1 && weight.size(1) == x.size(2) &&
                bias.size(0) == x.size(2) && weight.size(0) >= 1,
            "[causal_conv1d] expected x (B, T, C), weight (K, C) with K >= 1 and bias (C); got ",
            describe_operands(operands));
  check_same_device("causal_conv1d", operands);
  check_same_dtype("causal_conv1d", operands);
  check_float("causal_conv1d", "x", x);
  Tensor xc = contiguous(x), wc = contiguous(weight), bc = contiguous(bias);
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), K = weight.size(0);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), causal_conv1d_forward, x.dtype(), xc.data_ptr(), wc.data_ptr(), bc.data_ptr(), y.data_ptr(),
               B, T, C, K);
  if (autograd::any_requires_grad({xc, wc, bc})) {
    auto node = std::make_shared<CausalConv1dBackward>();
    node->x = xc.detach();
    node->weight = wc.detach();
    autograd::record(node, {xc, wc, bc}, {y});
  }
  return y;
}

}  // namespace tttlm::ops
