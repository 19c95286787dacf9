// Shared device helpers for kernels/cuda: typed load/store that compute in f32 for bf16, the current
// stream, grid sizing, and warp/block reductions. Every launcher checks its launch with
// TTT_CUDA_CHECK_LAUNCH.
//
// Kernels launch with TTT_LAUNCH(grid, block, shared_bytes, stream, kernel)(args...) (TTT_LAUNCH_FN when
// `kernel` is a function pointer whose shared-memory limit cudaFuncSetAttribute raised) and declare dynamic
// shared memory with TTT_DYNAMIC_SHARED(type, name, alignment): with nvcc these are exactly
// kernel<<<grid, block, shared_bytes, stream>>>(args...) and extern __shared__ __align__(a) type name[];
// in a TTTLM_CUDA=EMU build they run the kernel under the CPU emulator (cudaemu/device.h).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#if TTTLM_CUDA_EMU
#include "cudaemu/device.h"
#else
#define TTT_LAUNCH(grid, block, shared_bytes, stream, ...) __VA_ARGS__<<<grid, block, shared_bytes, stream>>>
#define TTT_LAUNCH_FN(grid, block, shared_bytes, stream, fn) (fn)<<<grid, block, shared_bytes, stream>>>
#define TTT_DYNAMIC_SHARED(T, name, align) \
  extern __shared__ __align__(align)       \
  T name[]
#endif

#include "core/cuda_check.h"
#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/error.h"

namespace tttlm::kernels::cuda {

inline cudaStream_t stream() { return static_cast<cudaStream_t>(cuda_current_stream()); }

inline unsigned grid_for(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

// Compute type for a storage type: bf16 computes in float.
template <class T>
struct Acc {
  using type = T;
};
template <>
struct Acc<__nv_bfloat16> {
  using type = float;
};

template <class T>
__device__ __forceinline__ typename Acc<T>::type ld(const T* p, int64_t i) {
  return p[i];
}
template <>
__device__ __forceinline__ float ld<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}
template <class T, class V>
__device__ __forceinline__ void st(T* p, int64_t i, V v) {
  p[i] = static_cast<T>(v);
}
template <>
__device__ __forceinline__ void st<__nv_bfloat16, float>(__nv_bfloat16* p, int64_t i, float v) {
  p[i] = __float2bfloat16(v);
}
template <>
__device__ __forceinline__ void st<__nv_bfloat16, double>(__nv_bfloat16* p, int64_t i, double v) {
  p[i] = __float2bfloat16(static_cast<float>(v));
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum of one value per thread (blockDim.x a multiple of 32, at most 1024); all threads get it.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T shared[32];
  __syncthreads();
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  T r = lane < nw ? shared[lane] : T(0);
  r = warp_sum(r);
  return r;
}

// Dispatch a runtime float dtype to a device storage type: float, __nv_bfloat16 or double.
#define TTT_CUDA_DISPATCH_FLOAT(DTYPE, OPNAME, ...)                                                                 \
  [&] {                                                                                                             \
    switch (DTYPE) {                                                                                                \
      case ::tttlm::Dtype::f32: {                                                                                   \
        using scalar_t = float;                                                                                     \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      case ::tttlm::Dtype::bf16: {                                                                                  \
        using scalar_t = __nv_bfloat16;                                                                             \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      case ::tttlm::Dtype::f64: {                                                                                   \
        using scalar_t = double;                                                                                    \
        return __VA_ARGS__();                                                                                       \
      }                                                                                                             \
      default:                                                                                                      \
        throw ::tttlm::InvalidArgument(::tttlm::detail::concat("[", OPNAME, "] dtype ", ::tttlm::dtype_name(DTYPE), \
                                                               " is not supported on CUDA"));                       \
    }                                                                                                               \
  }()

}  // namespace tttlm::kernels::cuda
