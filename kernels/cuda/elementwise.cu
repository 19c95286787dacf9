#include "kernels/cuda/common.cuh"
#include "kernels/elementwise.h"

namespace tttlm::kernels::cuda {

namespace {

template <class T>
__global__ void binary_kernel(BinaryOp op, const T* a, StridedDesc ad, const T* b, StridedDesc bd, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    auto x = ld(a, strided_offset(ad, i));
    auto y = ld(b, strided_offset(bd, i));
    decltype(x) r;
    switch (op) {
      case BinaryOp::add:
        r = x + y;
        break;
      case BinaryOp::sub:
        r = x - y;
        break;
      case BinaryOp::mul:
        r = x * y;
        break;
      default:
        r = x / y;
        break;
    }
    st(out, i, r);
  }
}

template <class T>
__global__ void affine_kernel(const T* x, T* out, int64_t n, double alpha, double beta) {
  using A = typename Acc<T>::type;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    st(out, i, static_cast<A>(alpha) * ld(x, i) + static_cast<A>(beta));
}

template <class T>
__global__ void axpy_kernel(const T* x, T* y, int64_t n, double alpha) {
  using A = typename Acc<T>::type;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    st(y, i, ld(y, i) + static_cast<A>(alpha) * ld(x, i));
}

}  // namespace

void binary_forward(BinaryOp op, Dtype dtype, const void* a, const StridedDesc& a_desc, const void* b,
                    const StridedDesc& b_desc, void* out, int64_t numel) {
  if (numel == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "binary", [&] {
    TTT_LAUNCH(grid_for(numel), 256, 0, stream(), binary_kernel)
    (op, static_cast<const scalar_t*>(a), a_desc, static_cast<const scalar_t*>(b), b_desc, static_cast<scalar_t*>(out),
     numel);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void affine_forward(Dtype dtype, const void* x, void* out, int64_t n, double alpha, double beta) {
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "affine", [&] {
    TTT_LAUNCH(grid_for(n), 256, 0, stream(), affine_kernel)
    (static_cast<const scalar_t*>(x), static_cast<scalar_t*>(out), n, alpha, beta);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void axpy(Dtype dtype, const void* x, void* y, int64_t n, double alpha) {
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "axpy", [&] {
    TTT_LAUNCH(grid_for(n), 256, 0, stream(), axpy_kernel)
    (static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), n, alpha);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
