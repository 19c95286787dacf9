// CUDA RMSNorm and LayerNorm: one warp per row for the forward and for dx (row statistics by warp
// shuffles); dweight/dbias in two deterministic steps: per-(chunk, 32-column tile) partial sums over a fixed
// chunk of rows, then, per column, the chunks summed in order. bf16 data computes in f32.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/scratch.h"
#include "kernels/norm.h"

namespace tttlm::kernels::cuda {

namespace {

constexpr int kRowsPerBlock = 4;  // warps per block, one row each
constexpr int kTileRows = 8;      // threadIdx.y of the partial-sum kernel

// kCenter: LayerNorm (subtract the mean, add the bias); otherwise RMSNorm. S: statistics type.
template <bool kCenter, class T, class S>
__global__ void norm_forward_kernel(const T* x, const T* w, const T* b, T* y, S* mean, S* rstd, int64_t rows,
                                    int64_t cols, S eps) {
  const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;  // the whole warp leaves together
  const T* xr = x + r * cols;
  S mu = 0;
  if constexpr (kCenter) {
    S s = 0;
    for (int64_t c = lane; c < cols; c += 32) s += ld(xr, c);
    mu = warp_sum(s) / S(cols);
  }
  S ss = 0;
  for (int64_t c = lane; c < cols; c += 32) {
    const S d = ld(xr, c) - mu;
    ss += d * d;
  }
  const S rs = S(1) / sqrt(warp_sum(ss) / S(cols) + eps);
  T* yr = y + r * cols;
  for (int64_t c = lane; c < cols; c += 32) {
    S v = (ld(xr, c) - mu) * rs * ld(w, c);
    if constexpr (kCenter) v += ld(b, c);
    st(yr, c, v);
  }
  if (lane == 0) {
    rstd[r] = rs;
    if constexpr (kCenter) mean[r] = mu;
  }
}

// dx = rstd·(g − mean_c(g) − xhat·mean_c(g ⊙ xhat)), g = dy ⊙ w (RMSNorm: without the mean_c(g) term).
template <bool kCenter, class T, class S>
__global__ void norm_backward_dx_kernel(const T* x, const T* w, const S* mean, const S* rstd, const T* dy, T* dx,
                                        int64_t rows, int64_t cols) {
  const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const T* xr = x + r * cols;
  const T* dyr = dy + r * cols;
  const S m = kCenter ? mean[r] : S(0), rs = rstd[r];
  S sg = 0, sgx = 0;
  for (int64_t c = lane; c < cols; c += 32) {
    const S g = ld(dyr, c) * ld(w, c);
    sg += g;
    sgx += g * (ld(xr, c) - m) * rs;
  }
  const S mg = kCenter ? warp_sum(sg) / S(cols) : S(0);
  const S mgx = warp_sum(sgx) / S(cols);
  T* dxr = dx + r * cols;
  for (int64_t c = lane; c < cols; c += 32) st(dxr, c, rs * (ld(dyr, c) * ld(w, c) - mg - (ld(xr, c) - m) * rs * mgx));
}

// Block (32, kTileRows) sums columns [32·blockIdx.x, +32) over the rows of chunk blockIdx.y:
// part_w[chunk, c] = Σ dy ⊙ xhat, part_b[chunk, c] = Σ dy (either may be null).
template <bool kCenter, class T, class S>
__global__ void norm_backward_params_kernel(const T* x, const S* mean, const S* rstd, const T* dy, S* part_w, S* part_b,
                                            int64_t rows, int64_t cols, int64_t per) {
  __shared__ S tile_w[kTileRows][33], tile_b[kTileRows][33];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = (int64_t)blockIdx.x * 32 + tx, k = blockIdx.y;
  const int64_t end = min(rows, (k + 1) * per);
  S aw = 0, ab = 0;
  if (c < cols) {
    for (int64_t r = k * per + ty; r < end; r += kTileRows) {
      const S d = ld(dy, r * cols + c);
      const S m = kCenter ? mean[r] : S(0);
      aw += d * (ld(x, r * cols + c) - m) * rstd[r];
      ab += d;
    }
  }
  tile_w[ty][tx] = aw;
  tile_b[ty][tx] = ab;
  __syncthreads();
  if (ty != 0 || c >= cols) return;
  S sw = 0, sb = 0;
  for (int i = 0; i < kTileRows; ++i) {
    sw += tile_w[i][tx];
    sb += tile_b[i][tx];
  }
  if (part_w) part_w[k * cols + c] = sw;
  if (part_b) part_b[k * cols + c] = sb;
}

// out[c] = Σ_k part[k, c], k in order (zeros when there are no chunks).
template <class T, class S>
__global__ void norm_reduce_chunks_kernel(const S* part, T* out, int64_t chunks, int64_t cols) {
  for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < cols; c += (int64_t)gridDim.x * blockDim.x) {
    S s = 0;
    for (int64_t k = 0; k < chunks; ++k) s += part[k * cols + c];
    st(out, c, s);
  }
}

template <bool kCenter>
void forward(const char* op, Dtype dtype, const void* x, const void* weight, const void* bias, void* y, void* mean,
             void* rstd, int64_t rows, int64_t cols, double eps) {
  if (rows == 0 || cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, op, [&] {
    using S = typename Acc<scalar_t>::type;
    const unsigned grid = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
    TTT_LAUNCH(grid, 32 * kRowsPerBlock, 0, stream(), norm_forward_kernel<kCenter>)
    (static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight), static_cast<const scalar_t*>(bias),
     static_cast<scalar_t*>(y), static_cast<S*>(mean), static_cast<S*>(rstd), rows, cols, static_cast<S>(eps));
    TTT_CUDA_CHECK_LAUNCH();
  });
}

template <bool kCenter>
void backward(const char* op, Dtype dtype, const void* x, const void* weight, const void* mean, const void* rstd,
              const void* dy, void* dx, void* dweight, void* dbias, int64_t rows, int64_t cols) {
  if (cols == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, op, [&] {
    using S = typename Acc<scalar_t>::type;
    auto X = static_cast<const scalar_t*>(x);
    auto DY = static_cast<const scalar_t*>(dy);
    auto M = static_cast<const S*>(mean);
    auto R = static_cast<const S*>(rstd);
    if (dx && rows > 0) {
      const unsigned grid = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
      TTT_LAUNCH(grid, 32 * kRowsPerBlock, 0, stream(), norm_backward_dx_kernel<kCenter>)
      (X, static_cast<const scalar_t*>(weight), M, R, DY, static_cast<scalar_t*>(dx), rows, cols);
      TTT_CUDA_CHECK_LAUNCH();
    }
    if (!dweight && !dbias) return;
    const int64_t per = norm_rows_per_chunk(rows), chunks = (rows + per - 1) / per;
    const size_t part_bytes = static_cast<size_t>(chunks * cols) * sizeof(S);
    Scratch part_w(dweight ? part_bytes : 0), part_b(dbias ? part_bytes : 0);
    if (chunks > 0) {
      dim3 grid(static_cast<unsigned>((cols + 31) / 32), static_cast<unsigned>(chunks));
      TTT_LAUNCH(grid, dim3(32, kTileRows), 0, stream(), norm_backward_params_kernel<kCenter>)
      (X, M, R, DY, part_w.as<S>(), part_b.as<S>(), rows, cols, per);
      TTT_CUDA_CHECK_LAUNCH();
    }
    if (dweight) {
      TTT_LAUNCH(grid_for(cols), 256, 0, stream(), norm_reduce_chunks_kernel)
      (part_w.as<const S>(), static_cast<scalar_t*>(dweight), chunks, cols);
      TTT_CUDA_CHECK_LAUNCH();
    }
    if (dbias) {
      TTT_LAUNCH(grid_for(cols), 256, 0, stream(), norm_reduce_chunks_kernel)
      (part_b.as<const S>(), static_cast<scalar_t*>(dbias), chunks, cols);
      TTT_CUDA_CHECK_LAUNCH();
    }
  });
}

}  // namespace

void rms_norm_forward(Dtype dtype, const void* x, const void* weight, void* y, void* rstd, int64_t rows, int64_t cols,
                      double eps) {
  forward<false>("rms_norm", dtype, x, weight, nullptr, y, nullptr, rstd, rows, cols, eps);
}

void rms_norm_backward(Dtype dtype, const void* x, const void* weight, const void* rstd, const void* dy, void* dx,
                       void* dweight, int64_t rows, int64_t cols) {
  backward<false>("rms_norm_backward", dtype, x, weight, nullptr, rstd, dy, dx, dweight, nullptr, rows, cols);
}

void layer_norm_forward(Dtype dtype, const void* x, const void* weight, const void* bias, void* y, void* mean,
                        void* rstd, int64_t rows, int64_t cols, double eps) {
  forward<true>("layer_norm", dtype, x, weight, bias, y, mean, rstd, rows, cols, eps);
}

void layer_norm_backward(Dtype dtype, const void* x, const void* weight, const void* mean, const void* rstd,
                         const void* dy, void* dx, void* dweight, void* dbias, int64_t rows, int64_t cols) {
  backward<true>("layer_norm_backward", dtype, x, weight, mean, rstd, dy, dx, dweight, dbias, rows, cols);
}

}  // namespace tttlm::kernels::cuda
