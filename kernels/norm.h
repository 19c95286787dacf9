// Row normalisations over the last dimension of a contiguous (rows, C) matrix x, with per-channel weight (C)
// and, for LayerNorm, bias (C):
//   rms_norm:   y = x·rstd·w,             rstd = 1/sqrt(mean_c x² + eps)
//   layer_norm: y = (x − mean)·rstd·w + b, rstd = 1/sqrt(mean_c (x − mean)² + eps)  (biased, two-pass
//   variance)
// Forward saves mean and rstd (rows) in the statistics dtype: f64 for f64 data, else f32 (never bf16).
// Statistics accumulate in double on the CPU and in the statistics dtype on CUDA.
// Backward overwrites dx (rows, C), dweight (C) and dbias (C); pass nullptr for a gradient not wanted.
// dweight and dbias are summed over fixed chunks of rows (chunk size a function of rows alone), then over the
// chunks in order, so the results do not depend on the thread count or on scheduling.
// CPU: f32, f64. CUDA: f32, bf16 (computed in f32), f64; one warp per row.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {

// The dtype that mean and rstd are stored in for data of `dtype`.
inline Dtype norm_stats_dtype(Dtype dtype) { return dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32; }

// Rows per chunk of the dweight/dbias reduction: at least 16, and at most 256 chunks.
inline int64_t norm_rows_per_chunk(int64_t rows) {
  int64_t per = (rows + 255) / 256;
  return per < 16 ? 16 : per;
}

}  // namespace tttlm::kernels

// x, y (rows, C); weight (C); rstd (rows).
TTT_KERNEL(rms_norm_forward, (Dtype dtype, const void* x, const void* weight, void* y, void* rstd, int64_t rows,
                              int64_t cols, double eps));
// dy, dx (rows, C); dweight (C); dx and dweight may be null.
TTT_KERNEL(rms_norm_backward, (Dtype dtype, const void* x, const void* weight, const void* rstd, const void* dy,
                               void* dx, void* dweight, int64_t rows, int64_t cols));
// x, y (rows, C); weight, bias (C); mean, rstd (rows).
TTT_KERNEL(layer_norm_forward, (Dtype dtype, const void* x, const void* weight, const void* bias, void* y, void* mean,
                                void* rstd, int64_t rows, int64_t cols, double eps));
// dy, dx (rows, C); dweight, dbias (C); dx, dweight and dbias may be null.
TTT_KERNEL(layer_norm_backward, (Dtype dtype, const void* x, const void* weight, const void* mean, const void* rstd,
                                 const void* dy, void* dx, void* dweight, void* dbias, int64_t rows, int64_t cols));
