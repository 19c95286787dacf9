// Matrix products on the last two dimensions. a (..., M, K) · b (..., K, N) → (..., M, N).
// Batch dimensions must be equal, or one operand is 2-D and is shared by the whole batch (then a 2-D b
// turns the product into one large GEMM over all rows of a). Transposed views are passed to the GEMM as
// transpose flags, never copied.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., in) · weight (in, out): the JAX Dense layout used throughout tttlm.
Tensor linear(const Tensor& x, const Tensor& weight);

namespace detail {
// The GEMM of matmul without autograd: a (B..., M, K), b (B..., K, N) (equal batch shapes, or b 2-D),
// same dtype; c_f32 with bf16 operands gives an f32 result (ops/matmul_bf16.h).
Tensor gemm_raw(const Tensor& a, const Tensor& b, bool c_f32);
}  // namespace detail

}  // namespace tttlm::ops
