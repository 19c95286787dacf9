// Elementwise activations, each differentiable; the exact formulas are in kernels/activation.h.
// The output is contiguous with x's shape and dtype; backward saves only x and recomputes f'(x).
#pragma once

#include "core/tensor.h"
#include "kernels/activation.h"

namespace tttlm::ops {

// Any activation by its kernels::Activation value (for layers that take the activation from a config).
Tensor activation(const Tensor& x, kernels::Activation act);

Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);  // no domain check: log of x <= 0 is -inf or NaN, as in IEEE arithmetic
Tensor sigmoid(const Tensor& x);
Tensor silu(const Tensor& x);  // x·sigmoid(x)

enum class GeluApprox : uint8_t { tanh, exact };
// tanh: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x³))), the TTT models' GELU; exact: 0.5x(1 + erf(x/sqrt 2)).
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::tanh);

Tensor softplus(const Tensor& x);  // PyTorch's: x if x > 20, else log1p(exp(x))
Tensor tanh(const Tensor& x);
Tensor square(const Tensor& x);
Tensor relu(const Tensor& x);  // max(0, x); the gradient at 0 is 0

}  // namespace tttlm::ops
