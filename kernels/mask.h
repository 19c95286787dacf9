// Triangular masks over the last two dimensions of a contiguous (outer, R, C) array:
//   y[o, i, j] = value if j - i > diagonal else x[o, i, j]
// (diagonal 0 keeps the main diagonal; value 0 is tril; value -inf masks attention scores). The gradient
// of either op is the same mask with value 0 applied to dy.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

// y may equal x. value is converted to the dtype (infinities stay infinite).
TTT_KERNEL(mask_upper_fill,
           (Dtype dtype, const void* x, void* y, int64_t outer, int64_t R, int64_t C, int64_t diagonal, double value));
