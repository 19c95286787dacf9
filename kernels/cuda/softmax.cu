// CUDA softmax, log-softmax and fused cross-entropy: one block per row. Each thread keeps an online
// (running max, Σ exp(x − max)) pair over its columns, so a row is read once for its statistics; the pairs
// are merged by a fixed-shape warp/block tree, so results are the same run to run. bf16 computes in f32.
#include <cmath>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/softmax.h"

namespace tttlm::kernels::cuda {

namespace {

// Threads per row-block: enough to cover short rows without idle warps, up to 512 for vocabulary rows.
int row_threads(int64_t cols) { return cols <= 128 ? 32 : cols <= 1024 ? 128 : cols <= 8192 ? 256 : 512; }

// (m, s) ← the pair for the union of both ranges; m = −inf means "no finite element yet" (s = 0). A NaN
// element makes s NaN (m itself never is: CUDA's max drops NaN), and every merge keeps it NaN.
template <class A>
__device__ __forceinline__ void merge_max_sum(A& m, A& s, A m2, A s2) {
  const A mn = max(m, m2);
  if (mn == -INFINITY) {
    s = s + s2;  // 0, or NaN when either range held a NaN
    return;
  }
  s = s * exp(m - mn) + s2 * exp(m2 - mn);
  m = mn;
}

template <class A>
__device__ __forceinline__ void warp_max_sum(A& m, A& s) {
  for (int o = 16; o > 0; o >>= 1) {
    const A m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
    merge_max_sum(m, s, m2, s2);
  }
}

// The (max, Σ exp(x − max)) of one row, in every thread of the block.
template <class T, class A = typename Acc<T>::type>
__device__ void row_max_sum(const T* x, int64_t cols, A& m, A& s) {
  __shared__ A shared_m[32], shared_s[32];
  m = -INFINITY;
  s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const A v = ld(x, c);
    if (v > m) {
      s = s * exp(m - v) + A(1);
      m = v;
    } else if (!(v <= m)) {
      s = v;  // v is NaN: the row's statistics are NaN
    } else if (m > -INFINITY) {
      s += exp(v - m);  // v = m = −inf adds nothing
    }
  }
  warp_max_sum(m, s);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    shared_m[warp] = m;
    shared_s[warp] = s;
  }
  __syncthreads();
  const int nw = blockDim.x >> 5;
  m = lane < nw ? shared_m[lane] : A(-INFINITY);
  s = lane < nw ? shared_s[lane] : A(0);
  warp_max_sum(m, s);
}

template <class T>
__global__ void softmax_forward_kernel(SoftmaxKind kind, const T* x, T* y, int64_t cols) {
  using A = typename Acc<T>::type;
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  A m, s;
  row_max_sum(xr, cols, m, s);
  if (kind == SoftmaxKind::softmax) {
    const A inv = A(1) / s;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) st(yr, c, exp(ld(xr, c) - m) * inv);
  } else {
    const A log_s = log(s);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) st(yr, c, (ld(xr, c) - m) - log_s);
  }
}

template <class T>
__global__ void softmax_backward_kernel(SoftmaxKind kind, const T* y, const T* dy, T* dx, int64_t cols) {
  using A = typename Acc<T>::type;
  const T* yr = y + blockIdx.x * cols;
  const T* dyr = dy + blockIdx.x * cols;
  T* dxr = dx + blockIdx.x * cols;
  A s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    s += kind == SoftmaxKind::softmax ? ld(dyr, c) * ld(yr, c) : ld(dyr, c);
  s = block_sum(s);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const A v = kind == SoftmaxKind::softmax ? ld(yr, c) * (ld(dyr, c) - s) : ld(dyr, c) - exp(ld(yr, c)) * s;
    st(dxr, c, v);
  }
}

template <class T, class I, class A = typename Acc<T>::type>
__global__ void cross_entropy_forward_kernel(const T* logits, const I* targets, A* loss, A* lse, int64_t cols) {
  const T* xr = logits + blockIdx.x * cols;
  A m, s;
  row_max_sum(xr, cols, m, s);
  if (threadIdx.x != 0) return;
  const A l = m + log(s);
  const int64_t t = targets[blockIdx.x];
  lse[blockIdx.x] = l;
  if (t == kIgnoreTarget)
    loss[blockIdx.x] = A(0);
  else if (t < 0 || t >= cols)
    loss[blockIdx.x] = A(NAN);
  else
    loss[blockIdx.x] = l - ld(xr, t);
}

template <class T, class I, class A = typename Acc<T>::type>
__global__ void cross_entropy_backward_kernel(const T* logits, const I* targets, const A* lse, const A* dloss,
                                              T* dlogits, int64_t cols) {
  const T* xr = logits + blockIdx.x * cols;
  T* dxr = dlogits + blockIdx.x * cols;
  const int64_t t = targets[blockIdx.x];
  if (t == kIgnoreTarget) {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) st(dxr, c, A(0));
    return;
  }
  const A g = t < 0 || t >= cols ? A(NAN) : dloss[blockIdx.x], l = lse[blockIdx.x];
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) st(dxr, c, g * (exp(ld(xr, c) - l) - A(c == t ? 1 : 0)));
}

// Calls body with a null I* that names the targets' element type, I = int32_t or int64_t.
template <class F>
void dispatch_target(Dtype target_dtype, F&& body) {
  if (target_dtype == Dtype::i32)
    body(static_cast<int32_t*>(nullptr));
  else if (target_dtype == Dtype::i64)
    body(static_cast<int64_t*>(nullptr));
  else
    throw InvalidArgument(detail::concat("[cross_entropy] targets must be i32 or i64, got ", dtype_name(target_dtype)));
}

}  // namespace

void softmax_forward(SoftmaxKind kind, Dtype dtype, const void* x, void* y, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, kind == SoftmaxKind::softmax ? "softmax" : "log_softmax", [&] {
    TTT_LAUNCH(static_cast<unsigned>(rows), row_threads(cols), 0, stream(), softmax_forward_kernel)
    (kind, static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), cols);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void softmax_backward(SoftmaxKind kind, Dtype dtype, const void* y, const void* dy, void* dx, int64_t rows,
                      int64_t cols) {
  if (rows == 0 || cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, kind == SoftmaxKind::softmax ? "softmax_backward" : "log_softmax_backward", [&] {
    TTT_LAUNCH(static_cast<unsigned>(rows), row_threads(cols), 0, stream(), softmax_backward_kernel)
    (kind, static_cast<const scalar_t*>(y), static_cast<const scalar_t*>(dy), static_cast<scalar_t*>(dx), cols);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void cross_entropy_forward(Dtype dtype, const void* logits, Dtype target_dtype, const void* targets, void* loss,
                           void* lse, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "cross_entropy", [&] {
    using A = typename Acc<scalar_t>::type;
    dispatch_target(target_dtype, [&](auto* tag) {
      using I = std::remove_pointer_t<decltype(tag)>;
      TTT_LAUNCH(static_cast<unsigned>(rows), row_threads(cols), 0, stream(), cross_entropy_forward_kernel)
      (static_cast<const scalar_t*>(logits), static_cast<const I*>(targets), static_cast<A*>(loss),
       static_cast<A*>(lse), cols);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

void cross_entropy_backward(Dtype dtype, const void* logits, Dtype target_dtype, const void* targets, const void* lse,
                            const void* dloss, void* dlogits, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "cross_entropy_backward", [&] {
    using A = typename Acc<scalar_t>::type;
    dispatch_target(target_dtype, [&](auto* tag) {
      using I = std::remove_pointer_t<decltype(tag)>;
      TTT_LAUNCH(static_cast<unsigned>(rows), row_threads(cols), 0, stream(), cross_entropy_backward_kernel)
      (static_cast<const scalar_t*>(logits), static_cast<const I*>(targets), static_cast<const A*>(lse),
       static_cast<const A*>(dloss), static_cast<scalar_t*>(dlogits), cols);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace tttlm::kernels::cuda
