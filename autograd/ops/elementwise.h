// Elementwise arithmetic with numpy broadcasting. Operands must share device and dtype (no implicit
// promotion: cast explicitly). Backward reduces each gradient to its operand's shape (sum_to).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
// alpha * x + beta
Tensor affine(const Tensor& x, double alpha, double beta = 0.0);
inline Tensor scale(const Tensor& x, double alpha) { return affine(x, alpha, 0.0); }
inline Tensor add_scalar(const Tensor& x, double beta) { return affine(x, 1.0, beta); }

// In place, not differentiable (for gradient accumulation and optimizers): y += alpha * x. Shapes must
// match and y must be contiguous.
void add_(const Tensor& y, const Tensor& x, double alpha = 1.0);
// In place y = alpha * y (not differentiable).
void scale_(const Tensor& y, double alpha);

}  // namespace tttlm::ops
