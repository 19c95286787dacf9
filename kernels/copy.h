// Strided copy with dtype conversion: the one kernel behind contiguous(), cast() and device-side reshapes.
// dst is contiguous with `numel` elements laid out in the row-major order of the src view.
#pragma once

#include "core/dtype.h"
#include "kernels/strided.h"

namespace tttlm::kernels::cpu {
void copy_strided(Dtype src_dtype, const void* src, const StridedDesc& src_desc, Dtype dst_dtype, void* dst,
                  int64_t numel);
// dst view = src view, same dtype and shape (both may be strided); used to write into slices.
void copy_into(Dtype dtype, const void* src, const StridedDesc& src_desc, void* dst, const StridedDesc& dst_desc,
               int64_t numel);
}  // namespace tttlm::kernels::cpu

namespace tttlm::kernels::cuda {
void copy_strided(Dtype src_dtype, const void* src, const StridedDesc& src_desc, Dtype dst_dtype, void* dst,
                  int64_t numel);
void copy_into(Dtype dtype, const void* src, const StridedDesc& src_desc, void* dst, const StridedDesc& dst_desc,
               int64_t numel);
}  // namespace tttlm::kernels::cuda
