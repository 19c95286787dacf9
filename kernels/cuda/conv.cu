// CUDA causal depthwise conv. Forward and dx: one thread per (b, t, c), c fastest, so a warp reads 32
// consecutive channels. dweight/dbias: deterministic two passes, no atomics: blocks of (32 channels x 8
// row lanes) reduce a fixed chunk of rows for one tap into a partial (a fixed tree over the 8 lanes), then
// one thread per (tap, channel) sums the chunks in order. Accumulation in f32 (f64 for f64).
#include "kernels/conv.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/scratch.h"

namespace tttlm::kernels::cuda {

namespace {

template <class T>
__global__ void causal_conv1d_forward_kernel(const T* x, const T* w, const T* bias, T* y, int64_t rows, int64_t T_,
                                             int64_t C, int64_t K) {
  using A = typename Acc<T>::type;
  const int64_t n = rows * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = i / C, c = i % C, t = r % T_;
    A s = ld(bias, c);
    for (int64_t k = K - 1 - t > 0 ? K - 1 - t : 0; k < K; ++k)
      s += ld(w, k * C + c) * ld(x, (r - (K - 1 - k)) * C + c);
    st(y, i, s);
  }
}

template <class T>
__global__ void causal_conv1d_dx_kernel(const T* dy, const T* w, T* dx, int64_t rows, int64_t T_, int64_t C,
                                        int64_t K) {
  using A = typename Acc<T>::type;
  const int64_t n = rows * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = i / C, c = i % C, s = r % T_;
    A acc = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t shift = K - 1 - k;
      if (s + shift < T_) acc += ld(w, k * C + c) * ld(dy, (r + shift) * C + c);
    }
    st(dx, i, acc);
  }
}

constexpr int kLanes = 8;  // row lanes per block (blockDim.y); blockDim.x = 32 channels

// partial[(chunk * (K+1) + tap) * C + c]: the sum over the chunk's rows; tap K is the bias (dy alone).
template <class T>
__global__ void causal_conv1d_wgrad_partial_kernel(const T* dy, const T* x, typename Acc<T>::type* partial,
                                                   int64_t rows, int64_t T_, int64_t C, int64_t K, int64_t chunk) {
  using A = typename Acc<T>::type;
  __shared__ A lanes[kLanes][32];
  const int64_t c = blockIdx.x * 32 + threadIdx.x;
  const int64_t tap = blockIdx.z;
  const int64_t begin = blockIdx.y * chunk;
  const int64_t end = begin + chunk < rows ? begin + chunk : rows;
  A acc = 0;
  if (c < C) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kLanes) {
      if (tap == K) {
        acc += ld(dy, r * C + c);
      } else {
        const int64_t shift = K - 1 - tap;
        if (r % T_ >= shift) acc += ld(dy, r * C + c) * ld(x, (r - shift) * C + c);
      }
    }
  }
  lanes[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    A s = 0;
    for (int l = 0; l < kLanes; ++l) s += lanes[l][threadIdx.x];
    partial[(blockIdx.y * (K + 1) + tap) * C + c] = s;
  }
}

template <class T>
__global__ void causal_conv1d_wgrad_finish_kernel(const typename Acc<T>::type* partial, T* dweight, T* dbias,
                                                  int64_t nchunks, int64_t C, int64_t K) {
  using A = typename Acc<T>::type;
  const int64_t n = (K + 1) * C;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < n; j += (int64_t)gridDim.x * blockDim.x) {
    A s = 0;
    for (int64_t q = 0; q < nchunks; ++q) s += partial[q * n + j];
    if (j < K * C) {
      if (dweight) st(dweight, j, s);
    } else if (dbias) {
      st(dbias, j - K * C, s);
    }
  }
}

}  // namespace

void causal_conv1d_forward(Dtype dtype, const void* x, const void* weight, const void* bias, void* y, int64_t B,
                           int64_t T, int64_t C, int64_t K) {
  if (B * T * C == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "causal_conv1d", [&] {
    TTT_LAUNCH(grid_for(B * T * C), 256, 0, stream(), causal_conv1d_forward_kernel)
    (static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight), static_cast<const scalar_t*>(bias),
     static_cast<scalar_t*>(y), B * T, T, C, K);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void causal_conv1d_backward(Dtype dtype, const void* dy, const void* x, const void* weight, void* dx, void* dweight,
                            void* dbias, int64_t B, int64_t T, int64_t C, int64_t K) {
  const int64_t rows = B * T;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "causal_conv1d_backward", [&] {
    using A = typename Acc<scalar_t>::type;
    auto G = static_cast<const scalar_t*>(dy);
    if (dx && rows * C > 0) {
      TTT_LAUNCH(grid_for(rows * C), 256, 0, stream(), causal_conv1d_dx_kernel)
      (G, static_cast<const scalar_t*>(weight), static_cast<scalar_t*>(dx), rows, T, C, K);
      TTT_CUDA_CHECK_LAUNCH();
    }
    if ((!dweight && !dbias) || C == 0) return;
    // Chunks depend only on the problem size: at most 1024 of them, each a multiple of the row lanes.
    int64_t chunk = (rows + 1023) / 1024;
    chunk = chunk < 256 ? 256 : (chunk + kLanes - 1) / kLanes * kLanes;
    const int64_t nchunks = rows > 0 ? (rows + chunk - 1) / chunk : 1;
    const size_t bytes = static_cast<size_t>(nchunks * (K + 1) * C) * sizeof(A);
    Scratch scratch(bytes);
    A* partial = scratch.as<A>();
    if (rows == 0) {
      TTT_CUDA_CHECK(cudaMemsetAsync(partial, 0, bytes, stream()));
    } else {
      dim3 grid(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(nchunks), static_cast<unsigned>(K + 1));
      TTT_LAUNCH(grid, dim3(32, kLanes), 0, stream(), causal_conv1d_wgrad_partial_kernel)
      (G, static_cast<const scalar_t*>(x), partial, rows, T, C, K, chunk);
      TTT_CUDA_CHECK_LAUNCH();
    }
    TTT_LAUNCH(grid_for((K + 1) * C), 256, 0, stream(), causal_conv1d_wgrad_finish_kernel)
    (partial, static_cast<scalar_t*>(dweight), static_cast<scalar_t*>(dbias), nchunks, C, K);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
