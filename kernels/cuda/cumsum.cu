// CUDA scan: one thread per (outer, inner) line walking n in order (consecutive threads take consecutive
// inner positions, so loads coalesce when inner > 1). Sequential by design: the same order as the CPU.
#include "kernels/cuda/common.cuh"
#include "kernels/cumsum.h"

namespace tttlm::kernels::cuda {

namespace {

template <class T>
__global__ void cumsum_kernel(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool rev) {
  using A = typename Acc<T>::type;
  const int64_t lines = outer * inner;
  for (int64_t l = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; l < lines; l += (int64_t)gridDim.x * blockDim.x) {
    const int64_t o = l / inner, i = l % inner;
    const int64_t base = o * n * inner + i;
    A acc = 0;
    for (int64_t q = 0; q < n; ++q) {
      const int64_t off = base + (rev ? n - 1 - q : q) * inner;
      acc += ld(x, off);
      st(y, off, acc);
    }
  }
}

}  // namespace

void cumsum_forward(Dtype dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner,
                    ScanDirection direction) {
  if (outer * n * inner == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "cumsum", [&] {
    TTT_LAUNCH(grid_for(outer * inner), 256, 0, stream(), cumsum_kernel)
    (static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), outer, n, inner, direction == ScanDirection::reverse);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
