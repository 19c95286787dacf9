// Row reductions over a contiguous (rows, cols) matrix: out[r] = reduce_c x[r, c]. Ops bring any
// reduction into this form by permuting the reduced dimensions last. Sums accumulate in double on the CPU
// and in f32 (f64 for f64) on CUDA, each row in a fixed order, so results do not depend on thread count.
// max also writes argmax (the first index of the maximum), which its backward uses.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {
enum class ReduceOp : uint8_t { sum, max };
}

TTT_KERNEL(reduce_rows,
           (ReduceOp op, Dtype dtype, const void* x, void* out, int64_t* argmax, int64_t rows, int64_t cols));
// dx (rows, cols) = 0 except dx[r, argmax[r]] = dout[r] (overwrites dx).
TTT_KERNEL(reduce_max_backward,
           (Dtype dtype, const void* dout, const int64_t* argmax, void* dx, int64_t rows, int64_t cols));
