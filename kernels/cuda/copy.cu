#include "kernels/copy.h"
#include "kernels/cuda/common.cuh"

namespace tttlm::kernels::cuda {

namespace {

template <class S, class D>
__global__ void copy_strided_kernel(const S* src, StridedDesc d, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    st(dst, i, ld(src, strided_offset(d, i)));
  }
}

template <class S>
void launch_from(const void* src, const StridedDesc& d, Dtype dst_dtype, void* dst, int64_t n) {
  auto s = static_cast<const S*>(src);
  auto go = [&](auto* out) {
    TTT_LAUNCH(grid_for(n), 256, 0, stream(), copy_strided_kernel)(s, d, out, n);
    TTT_CUDA_CHECK_LAUNCH();
  };
  switch (dst_dtype) {
    case Dtype::f32:
      return go(static_cast<float*>(dst));
    case Dtype::bf16:
      return go(static_cast<__nv_bfloat16*>(dst));
    case Dtype::f64:
      return go(static_cast<double*>(dst));
    case Dtype::i32:
      return go(static_cast<int32_t*>(dst));
    case Dtype::i64:
      return go(static_cast<int64_t*>(dst));
    case Dtype::u16:
      return go(static_cast<uint16_t*>(dst));
  }
}

}  // namespace

void copy_strided(Dtype src_dtype, const void* src, const StridedDesc& src_desc, Dtype dst_dtype, void* dst,
                  int64_t numel) {
  if (numel == 0) return;
  switch (src_dtype) {
    case Dtype::f32:
      return launch_from<float>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::bf16:
      return launch_from<__nv_bfloat16>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::f64:
      return launch_from<double>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::i32:
      return launch_from<int32_t>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::i64:
      return launch_from<int64_t>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::u16:
      return launch_from<uint16_t>(src, src_desc, dst_dtype, dst, numel);
  }
}

namespace {
template <class E>
__global__ void copy_into_kernel(const E* src, StridedDesc sd, E* dst, StridedDesc dd, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    dst[strided_offset(dd, i)] = src[strided_offset(sd, i)];
}
template <class E>
void launch_into(const void* src, const StridedDesc& sd, void* dst, const StridedDesc& dd, int64_t n) {
  TTT_LAUNCH(grid_for(n), 256, 0, stream(), copy_into_kernel)
  (static_cast<const E*>(src), sd, static_cast<E*>(dst), dd, n);
  TTT_CUDA_CHECK_LAUNCH();
}
}  // namespace

void copy_into(Dtype dtype, const void* src, const StridedDesc& src_desc, void* dst, const StridedDesc& dst_desc,
               int64_t numel) {
  if (numel == 0) return;
  switch (dtype_size(dtype)) {
    case 2:
      return launch_into<uint16_t>(src, src_desc, dst, dst_desc, numel);
    case 4:
      return launch_into<uint32_t>(src, src_desc, dst, dst_desc, numel);
    default:
      return launch_into<uint64_t>(src, src_desc, dst, dst_desc, numel);
  }
}

}  // namespace tttlm::kernels::cuda
