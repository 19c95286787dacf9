// Elementwise arithmetic. Outputs are contiguous; inputs of binary ops are views already broadcast to the
// output's shape (stride 0 on broadcast dimensions), so one kernel serves every broadcasting pattern.
// CPU: f32, f64. CUDA: f32, bf16 (computed in f32), f64.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"
#include "kernels/strided.h"

namespace tttlm::kernels {
enum class BinaryOp : uint8_t { add, sub, mul, div };
}

// out[i] = a[i] op b[i], i over the row-major order of the (broadcast) shape in a_desc.
TTT_KERNEL(binary_forward, (BinaryOp op, Dtype dtype, const void* a, const StridedDesc& a_desc, const void* b,
                            const StridedDesc& b_desc, void* out, int64_t numel));
// out = alpha * x + beta, contiguous (out may equal x).
TTT_KERNEL(affine_forward, (Dtype dtype, const void* x, void* out, int64_t n, double alpha, double beta));
// y += alpha * x, contiguous, in place.
TTT_KERNEL(axpy, (Dtype dtype, const void* x, void* y, int64_t n, double alpha));
