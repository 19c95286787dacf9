// Strided copy with dtype conversion: the one kernel behind contiguous(), cast() and device-side reshapes.
// dst is contiguous with `numel` elements laid out in the row-major order of the src view.
#pragma once

#include "core/dtype.h"
#include "kernels/declare.h"
#include "kernels/strided.h"

TTT_KERNEL(copy_strided,
           (Dtype src_dtype, const void* src, const StridedDesc& src_desc, Dtype dst_dtype, void* dst, int64_t numel));
// dst view = src view, same dtype and shape (both may be strided); used to write into slices.
TTT_KERNEL(copy_into, (Dtype dtype, const void* src, const StridedDesc& src_desc, void* dst,
                       const StridedDesc& dst_desc, int64_t numel));
