// Inclusive prefix sum along one axis of a contiguous (outer, n, inner) array:
//   forward: y[o, j, i] = sum_{q <= j} x[o, q, i];  reverse: y[o, j, i] = sum_{q >= j} x[o, q, i]
// (the reverse scan is the backward of the forward one). Each (o, i) line is scanned sequentially, in
// double on the CPU and in f32 (f64) on CUDA, so results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {
enum class ScanDirection : uint8_t { forward, reverse };
}

// y (outer, n, inner) = scan of x along n; y may equal x.
TTT_KERNEL(cumsum_forward,
           (Dtype dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, ScanDirection direction));
