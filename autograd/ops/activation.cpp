#include "autograd/ops/activation.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

using kernels::Activation;

struct ActivationBackward final : autograd::Node {
  Activation act;
  Tensor x;  // contiguous, detached
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dy = contiguous(cast(grad_or_zeros(grads, 0), x.dtype()));
    Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    TTT_DISPATCH(x.device(), unary_backward, act, x.dtype(), x.data_ptr(), dy.data_ptr(), dx.data_ptr(), x.numel());
    return {dx};
  }
  std::string name() const override { return std::string(kernels::activation_name(act)) + "Backward"; }
};

}  // namespace

Tensor activation(const Tensor& x, Activation act) {
  const char* name = kernels::activation_name(act);
  check_defined(name, "x", x);
  check_float(name, "x", x);
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), unary_forward, act, x.dtype(), xc.data_ptr(), y.data_ptr(), y.numel());
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<ActivationBackward>();
    node->act = act;
    node->x = xc;
    autograd::record(node, {x}, {y});
  }
  return y;
}

Tensor exp(const Tensor& x) { return activation(x, Activation::exp); }
Tensor log(const Tensor& x) { return activation(x, Activation::log); }
Tensor sigmoid(const Tensor& x) { return activation(x, Activation::sigmoid); }
Tensor silu(const Tensor& x) { return activation(x, Activation::silu); }
Tensor gelu(const Tensor& x, GeluApprox approx) {
  return activation(x, approx == GeluApprox::tanh ? Activation::gelu_tanh : Activation::gelu_exact);
}
Tensor softplus(const Tensor& x) { return activation(x, Activation::softplus); }
Tensor tanh(const Tensor& x) { return activation(x, Activation::tanh); }
Tensor square(const Tensor& x) { return activation(x, Activation::square); }

Tensor relu(const Tensor& x) { return activation(x, Activation::relu); }

}  // namespace tttlm::ops
