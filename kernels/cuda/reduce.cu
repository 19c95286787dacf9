#include "kernels/cuda/common.cuh"
#include "kernels/reduce.h"

namespace tttlm::kernels::cuda {

namespace {

// One block per row; a fixed-shape tree reduction, so results are deterministic run to run.
template <class T>
__global__ void reduce_sum_kernel(const T* x, T* out, int64_t cols) {
  using A = typename Acc<T>::type;
  const T* row = x + blockIdx.x * cols;
  A s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += ld(row, c);
  s = block_sum(s);
  if (threadIdx.x == 0) st(out, blockIdx.x, s);
}

template <class T>
__global__ void reduce_max_kernel(const T* x, T* out, int64_t* argmax, int64_t cols) {
  using A = typename Acc<T>::type;
  __shared__ A best_v[256];
  __shared__ int64_t best_i[256];
  const T* row = x + blockIdx.x * cols;
  A bv = cols ? ld(row, 0) : A(0);
  int64_t bi = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    A v = ld(row, c);
    if (v > bv || (v == bv && c < bi)) {
      bv = v;
      bi = c;
    }
  }
  best_v[threadIdx.x] = bv;
  best_i[threadIdx.x] = bi;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      A v = best_v[threadIdx.x + s];
      int64_t i = best_i[threadIdx.x + s];
      if (v > best_v[threadIdx.x] || (v == best_v[threadIdx.x] && i < best_i[threadIdx.x])) {
        best_v[threadIdx.x] = v;
        best_i[threadIdx.x] = i;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    st(out, blockIdx.x, best_v[0]);
    if (argmax) argmax[blockIdx.x] = best_i[0];
  }
}

}  // namespace

void reduce_rows(ReduceOp op, Dtype dtype, const void* x, void* out, int64_t* argmax, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "reduce", [&] {
    auto X = static_cast<const scalar_t*>(x);
    auto O = static_cast<scalar_t*>(out);
    if (op == ReduceOp::sum)
      TTT_LAUNCH(static_cast<unsigned>(rows), 256, 0, stream(), reduce_sum_kernel)(X, O, cols);
    else
      TTT_LAUNCH(static_cast<unsigned>(rows), 256, 0, stream(), reduce_max_kernel)(X, O, argmax, cols);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

namespace {
template <class T>
__global__ void max_backward_kernel(const T* g, const int64_t* argmax, T* dx, int64_t rows, int64_t cols) {
  int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t r = i / cols, c = i % cols;
    dx[i] = c == argmax[r] ? g[r] : T(0);
  }
}
}  // namespace

void reduce_max_backward(Dtype dtype, const void* dout, const int64_t* argmax, void* dx, int64_t rows, int64_t cols) {
  if (rows * cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "max_backward", [&] {
    TTT_LAUNCH(grid_for(rows * cols), 256, 0, stream(), max_backward_kernel)
    (static_cast<const scalar_t*>(dout), argmax, static_cast<scalar_t*>(dx), rows, cols);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
