// CUDA triangular mask: one thread per element.
#include "kernels/cuda/common.cuh"
#include "kernels/mask.h"

namespace tttlm::kernels::cuda {

namespace {

template <class T>
__global__ void mask_upper_fill_kernel(const T* x, T* y, int64_t n, int64_t R, int64_t C, int64_t diagonal,
                                       double value) {
  using A = typename Acc<T>::type;
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t j = e % C, i = (e / C) % R;
    if (j - i > diagonal)
      st(y, e, static_cast<A>(value));
    else
      y[e] = x[e];
  }
}

}  // namespace

void mask_upper_fill(Dtype dtype, const void* x, void* y, int64_t outer, int64_t R, int64_t C, int64_t diagonal,
                     double value) {
  const int64_t n = outer * R * C;
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "mask_upper_fill", [&] {
    TTT_LAUNCH(grid_for(n), 256, 0, stream(), mask_upper_fill_kernel)
    (static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), n, R, C, diagonal, value);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
