// CUDA causal attention, FlashAttention-2 (arXiv 2307.08691) with plain CUDA cores: one block of 256
// threads per (B·H, query tile) or (B·H, key tile); the tiles of q, k, v, dO and the (tile, tile) block of
// scores live in shared memory, accumulators in f32 (f64 for f64). dQ has its own pass over query tiles
// instead of FlashAttention-2's atomicAdd, so every output is written by one block in a fixed order and
// results are deterministic. Tiles are 64 x 64, or 32 x 32 when 64 does not fit the device's shared memory
// (f64, wide heads). Correctness first: no tensor cores, no register tiling.
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cuda/common.cuh"

namespace tttlm::kernels::cuda {

namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float exp_acc(float x) { return expf(x); }
__device__ __forceinline__ double exp_acc(double x) { return exp(x); }
__device__ __forceinline__ float log_acc(float x) { return logf(x); }
__device__ __forceinline__ double log_acc(double x) { return log(x); }

// Rows of a tile that starts `left` rows before the end of the sequence.
__device__ __forceinline__ int tile_rows(int64_t left, int BQ) { return static_cast<int>(left < BQ ? left : BQ); }

// Offset of head bh = b·H + h in a view with strides (b, h, t).
__device__ __forceinline__ int64_t head_offset(const int64_t* stride, int64_t bh, int64_t heads) {
  return (bh / heads) * stride[0] + (bh % heads) * stride[1];
}

// dst (BQ, dst_ld) = mul · src rows [t0, t0 + BQ) of one head (row stride src_rs, unit stride over D);
// rows at or past Tn are zero, so products with masked (zero) probabilities never meet garbage.
template <class T, class A>
__device__ void load_tile(A* dst, int dst_ld, const T* src, int64_t src_rs, int64_t t0, int64_t Tn, int D, int BQ,
                          A mul) {
  for (int e = threadIdx.x; e < BQ * D; e += blockDim.x) {
    const int r = e / D, d = e % D;
    const int64_t t = t0 + r;
    dst[r * dst_ld + d] = t < Tn ? mul * static_cast<A>(ld(src, t * src_rs + d)) : A(0);
  }
}

// vals (BQ) = src[t0 + r] for rows inside the sequence, 0 past it.
template <class A>
__device__ void load_stats(A* vals, const A* src, int64_t t0, int64_t Tn, int BQ) {
  for (int r = threadIdx.x; r < BQ; r += blockDim.x) vals[r] = t0 + r < Tn ? src[t0 + r] : A(0);
}

// Shared memory, in accumulator elements, of each kernel for tile size BQ and head dim D.
inline size_t forward_smem(int BQ, int D) { return 3 * BQ * D + BQ * (D + 1) + BQ * (BQ + 1) + 3 * BQ; }
inline size_t dkdv_smem(int BQ, int D) { return 2 * BQ * (D + 1) + 4 * BQ * D + 2 * BQ * (BQ + 1) + 2 * BQ; }
inline size_t dq_smem(int BQ, int D) { return 3 * BQ * D + 2 * BQ * (D + 1) + BQ * (BQ + 1) + 2 * BQ; }

// ---- forward: one block per (bh, query tile); grid (B·H, tiles), the last (longest) tiles first ----
template <class T, class A, int BQ>
__global__ void attention_forward_kernel(const AttentionArgs a, T* out, A* lse) {
  TTT_DYNAMIC_SHARED(unsigned char, smem_raw, 16);
  const int D = static_cast<int>(a.dim);
  const int64_t Tn = a.seq, bh = blockIdx.x;
  const int64_t q0 = static_cast<int64_t>(gridDim.y - 1 - blockIdx.y) * BQ;
  const int rows = tile_rows(Tn - q0, BQ);
  const int64_t last = q0 + rows - 1;
  A* qs = reinterpret_cast<A*>(smem_raw);  // (BQ, D), q · scale
  A* ks = qs + BQ * D;                     // (BQ, D + 1), padded against bank conflicts
  A* vs = ks + BQ * (D + 1);               // (BQ, D)
  A* acc = vs + BQ * D;                    // (BQ, D), unnormalised output
  A* s = acc + BQ * D;                     // (BQ, BQ + 1), scores then probabilities
  A* m = s + BQ * (BQ + 1);                // (BQ) running max
  A* l = m + BQ;                           // (BQ) running sum
  A* alpha = l + BQ;                       // (BQ) rescale of acc for this key tile
  const T* q = static_cast<const T*>(a.q) + head_offset(a.q_stride, bh, a.heads);
  const T* k = static_cast<const T*>(a.k) + head_offset(a.k_stride, bh, a.heads);
  const T* v = static_cast<const T*>(a.v) + head_offset(a.v_stride, bh, a.heads);
  load_tile(qs, D, q, a.q_stride[2], q0, Tn, D, BQ, static_cast<A>(a.scale));
  for (int e = threadIdx.x; e < BQ * D; e += blockDim.x) acc[e] = A(0);
  for (int r = threadIdx.x; r < BQ; r += blockDim.x) {
    m[r] = -INFINITY;
    l[r] = A(0);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
  // Key tiles start at multiples of BQ <= q0, so every valid row sees key k0 in every tile: m stays finite.
  for (int64_t k0 = 0; k0 <= last; k0 += BQ) {
    __syncthreads();  // the previous tile's readers are done
    load_tile(ks, D + 1, k, a.k_stride[2], k0, Tn, D, BQ, A(1));
    load_tile(vs, D, v, a.v_stride[2], k0, Tn, D, BQ, A(1));
    __syncthreads();
    for (int e = threadIdx.x; e < BQ * BQ; e += blockDim.x) {
      const int r = e / BQ, c = e % BQ;
      A x = -INFINITY;
      if (r < rows && k0 + c <= q0 + r) {
        x = 0;
        for (int d = 0; d < D; ++d) x += qs[r * D + d] * ks[c * (D + 1) + d];
      }
      s[r * (BQ + 1) + c] = x;
    }
    __syncthreads();
    for (int r = warp; r < rows; r += nwarps) {  // online softmax, one warp per row
      A* sr = s + r * (BQ + 1);
      A mx = -INFINITY;
      for (int c = lane; c < BQ; c += 32) mx = max(mx, sr[c]);
      const A m_new = max(m[r], warp_max(mx));
      A sum = 0;
      for (int c = lane; c < BQ; c += 32) {
        const A p = exp_acc(sr[c] - m_new);  // masked: exp(−inf) = 0
        sr[c] = p;
        sum += p;
      }
      sum = warp_sum(sum);
      __syncwarp();  // every lane has read m[r] before lane 0 updates it
      if (lane == 0) {
        const A al = exp_acc(m[r] - m_new);  // 0 on the first tile (m = −inf)
        alpha[r] = al;
        l[r] = l[r] * al + sum;
        m[r] = m_new;
      }
    }
    __syncthreads();
    for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
      const int r = e / D, d = e % D;
      const A* pr = s + r * (BQ + 1);
      A x = acc[e] * alpha[r];
      for (int c = 0; c < BQ; ++c) x += pr[c] * vs[c * D + d];
      acc[e] = x;
    }
  }
  __syncthreads();
  T* o = out + (bh * Tn + q0) * D;
  for (int e = threadIdx.x; e < rows * D; e += blockDim.x) st(o, e, acc[e] / l[e / D]);
  for (int r = threadIdx.x; r < rows; r += blockDim.x) lse[bh * Tn + q0 + r] = m[r] + log_acc(l[r]);
}

// ---- backward ----

// delta (rows) = rowsum(dout ⊙ out), one warp per row (warp-stride loop, so any grid covers every row).
template <class T, class A>
__global__ void attention_delta_kernel(const T* dout, const T* out, A* delta, int64_t rows, int D) {
  const int warps_per_block = blockDim.x / 32, lane = threadIdx.x % 32;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  for (int64_t row = first; row < rows; row += static_cast<int64_t>(gridDim.x) * warps_per_block) {
    A s = 0;
    for (int d = lane; d < D; d += 32)
      s += static_cast<A>(ld(dout, row * D + d)) * static_cast<A>(ld(out, row * D + d));
    s = warp_sum(s);  // the loop bound is the same for the whole warp
    if (lane == 0) delta[row] = s;
  }
}

// p and ds (BQ, BQ + 1) of one (query tile q0, key tile k0) block: P = exp(s − lse), dS = P ⊙ (dO·vᵀ −
// delta); zero where masked or outside the sequence. p may be null (the dQ pass needs only dS).
template <class A, int BQ>
__device__ void backward_block(const A* qs, const A* dos, const A* ks, const A* vs, const A* lse_s, const A* delta_s,
                               int64_t q0, int64_t k0, int rows, int D, A* p, A* ds) {
  for (int e = threadIdx.x; e < BQ * BQ; e += blockDim.x) {
    const int r = e / BQ, c = e % BQ;
    A pv = 0, dsv = 0;
    if (r < rows && k0 + c <= q0 + r) {
      A sv = 0, dpv = 0;
      for (int d = 0; d < D; ++d) {
        sv += qs[r * D + d] * ks[c * (D + 1) + d];
        dpv += dos[r * D + d] * vs[c * (D + 1) + d];
      }
      pv = exp_acc(sv - lse_s[r]);
      dsv = pv * (dpv - delta_s[r]);
    }
    if (p) p[r * (BQ + 1) + c] = pv;
    ds[r * (BQ + 1) + c] = dsv;
  }
}

// dK and dV: one block per (bh, key tile); grid (B·H, tiles); it visits the query tiles from k0 on, in order.
template <class T, class A, int BQ>
__global__ void attention_dkdv_kernel(const AttentionArgs a, const T* dout, const A* lse, const A* delta, T* dk,
                                      T* dv) {
  TTT_DYNAMIC_SHARED(unsigned char, smem_raw, 16);
  const int D = static_cast<int>(a.dim);
  const int64_t Tn = a.seq, bh = blockIdx.x, k0 = static_cast<int64_t>(blockIdx.y) * BQ;
  const int cols = tile_rows(Tn - k0, BQ);
  A* ks = reinterpret_cast<A*>(smem_raw);  // (BQ, D + 1)
  A* vs = ks + BQ * (D + 1);               // (BQ, D + 1)
  A* qs = vs + BQ * (D + 1);               // (BQ, D), q · scale
  A* dos = qs + BQ * D;                    // (BQ, D)
  A* dk_acc = dos + BQ * D;                // (BQ, D)
  A* dv_acc = dk_acc + BQ * D;             // (BQ, D)
  A* p = dv_acc + BQ * D;                  // (BQ, BQ + 1)
  A* ds = p + BQ * (BQ + 1);               // (BQ, BQ + 1)
  A* lse_s = ds + BQ * (BQ + 1);           // (BQ)
  A* delta_s = lse_s + BQ;                 // (BQ)
  const T* q = static_cast<const T*>(a.q) + head_offset(a.q_stride, bh, a.heads);
  const T* k = static_cast<const T*>(a.k) + head_offset(a.k_stride, bh, a.heads);
  const T* v = static_cast<const T*>(a.v) + head_offset(a.v_stride, bh, a.heads);
  const T* dO = dout + bh * Tn * D;
  load_tile(ks, D + 1, k, a.k_stride[2], k0, Tn, D, BQ, A(1));
  load_tile(vs, D + 1, v, a.v_stride[2], k0, Tn, D, BQ, A(1));
  for (int e = threadIdx.x; e < BQ * D; e += blockDim.x) dk_acc[e] = dv_acc[e] = A(0);
  for (int64_t q0 = k0; q0 < Tn; q0 += BQ) {
    const int rows = tile_rows(Tn - q0, BQ);
    __syncthreads();
    load_tile(qs, D, q, a.q_stride[2], q0, Tn, D, BQ, static_cast<A>(a.scale));
    load_tile(dos, D, dO, int64_t(D), q0, Tn, D, BQ, A(1));
    load_stats(lse_s, lse + bh * Tn, q0, Tn, BQ);
    load_stats(delta_s, delta + bh * Tn, q0, Tn, BQ);
    __syncthreads();
    backward_block<A, BQ>(qs, dos, ks, vs, lse_s, delta_s, q0, k0, rows, D, p, ds);
    __syncthreads();
    for (int e = threadIdx.x; e < cols * D; e += blockDim.x) {
      const int c = e / D, d = e % D;
      A xv = dv_acc[e], xk = dk_acc[e];
      for (int r = 0; r < rows; ++r) {
        xv += p[r * (BQ + 1) + c] * dos[r * D + d];  // dV += Pᵀ·dO
        xk += ds[r * (BQ + 1) + c] * qs[r * D + d];  // dK += dSᵀ·(q·scale)
      }
      dv_acc[e] = xv;
      dk_acc[e] = xk;
    }
  }
  __syncthreads();
  for (int e = threadIdx.x; e < cols * D; e += blockDim.x) {
    st(dk, (bh * Tn + k0) * D + e, dk_acc[e]);
    st(dv, (bh * Tn + k0) * D + e, dv_acc[e]);
  }
}

// dQ: one block per (bh, query tile); grid (B·H, tiles), the last (longest) tiles first.
template <class T, class A, int BQ>
__global__ void attention_dq_kernel(const AttentionArgs a, const T* dout, const A* lse, const A* delta, T* dq) {
  TTT_DYNAMIC_SHARED(unsigned char, smem_raw, 16);
  const int D = static_cast<int>(a.dim);
  const int64_t Tn = a.seq, bh = blockIdx.x;
  const int64_t q0 = static_cast<int64_t>(gridDim.y - 1 - blockIdx.y) * BQ;
  const int rows = tile_rows(Tn - q0, BQ);
  const int64_t last = q0 + rows - 1;
  A* qs = reinterpret_cast<A*>(smem_raw);  // (BQ, D), q · scale
  A* dos = qs + BQ * D;                    // (BQ, D)
  A* dq_acc = dos + BQ * D;                // (BQ, D)
  A* ks = dq_acc + BQ * D;                 // (BQ, D + 1)
  A* vs = ks + BQ * (D + 1);               // (BQ, D + 1)
  A* ds = vs + BQ * (D + 1);               // (BQ, BQ + 1)
  A* lse_s = ds + BQ * (BQ + 1);           // (BQ)
  A* delta_s = lse_s + BQ;                 // (BQ)
  const T* q = static_cast<const T*>(a.q) + head_offset(a.q_stride, bh, a.heads);
  const T* k = static_cast<const T*>(a.k) + head_offset(a.k_stride, bh, a.heads);
  const T* v = static_cast<const T*>(a.v) + head_offset(a.v_stride, bh, a.heads);
  load_tile(qs, D, q, a.q_stride[2], q0, Tn, D, BQ, static_cast<A>(a.scale));
  load_tile(dos, D, dout + bh * Tn * D, int64_t(D), q0, Tn, D, BQ, A(1));
  load_stats(lse_s, lse + bh * Tn, q0, Tn, BQ);
  load_stats(delta_s, delta + bh * Tn, q0, Tn, BQ);
  for (int e = threadIdx.x; e < BQ * D; e += blockDim.x) dq_acc[e] = A(0);
  for (int64_t k0 = 0; k0 <= last; k0 += BQ) {
    __syncthreads();
    load_tile(ks, D + 1, k, a.k_stride[2], k0, Tn, D, BQ, A(1));
    load_tile(vs, D + 1, v, a.v_stride[2], k0, Tn, D, BQ, A(1));
    __syncthreads();
    backward_block<A, BQ>(qs, dos, ks, vs, lse_s, delta_s, q0, k0, rows, D, nullptr, ds);
    __syncthreads();
    for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
      const int r = e / D, d = e % D;
      A x = dq_acc[e];
      for (int c = 0; c < BQ; ++c) x += ds[r * (BQ + 1) + c] * ks[c * (D + 1) + d];  // dQ += dS·K
      dq_acc[e] = x;
    }
  }
  __syncthreads();
  const A scale = static_cast<A>(a.scale);
  for (int e = threadIdx.x; e < rows * D; e += blockDim.x) st(dq, (bh * Tn + q0) * D + e, dq_acc[e] * scale);
}

// ---- launchers ----

// 64 when a 64-row tile's shared memory (smem_elems(BQ, D) accumulators) fits the device, else 32;
// throws when neither fits.
template <class A>
int pick_tile(size_t (*smem_elems)(int, int), int D, const char* op) {
  int dev = 0, limit = 0;
  TTT_CUDA_CHECK(cudaGetDevice(&dev));
  TTT_CUDA_CHECK(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (smem_elems(64, D) * sizeof(A) <= static_cast<size_t>(limit)) return 64;
  const size_t need = smem_elems(32, D) * sizeof(A);
  TTT_CHECK(need <= static_cast<size_t>(limit), "[", op, "] head dim D=", D, " needs ", need,
            " bytes of shared memory per block even with 32-row tiles; the device allows ", limit);
  return 32;
}

template <class Kernel, class... Args>
void launch(Kernel kernel, dim3 grid, size_t smem, Args... args) {
  TTT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  TTT_LAUNCH_FN(grid, kThreads, smem, stream(), kernel)(args...);
  TTT_CUDA_CHECK_LAUNCH();
}

dim3 tile_grid(const AttentionArgs& a, int BQ, const char* op) {
  const int64_t bh = a.batch * a.heads, tiles = (a.seq + BQ - 1) / BQ;
  TTT_CHECK(bh <= 0x7fffffff && tiles <= 65535, "[", op, "] B·H = ", bh, " and T = ", a.seq,
            " exceed the launch grid (B·H <= 2^31 − 1, T <= ", 65535 * BQ, ")");
  return dim3(static_cast<unsigned>(bh), static_cast<unsigned>(tiles));
}

}  // namespace

void causal_attention_forward(Dtype dtype, const AttentionArgs& args, void* out, void* lse) {
  if (args.batch * args.heads * args.seq == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "causal_attention", [&] {
    using A = typename Acc<scalar_t>::type;
    const int D = static_cast<int>(args.dim);
    auto O = static_cast<scalar_t*>(out);
    auto L = static_cast<A*>(lse);
    if (pick_tile<A>(forward_smem, D, "causal_attention") == 64)
      launch(attention_forward_kernel<scalar_t, A, 64>, tile_grid(args, 64, "causal_attention"),
             forward_smem(64, D) * sizeof(A), args, O, L);
    else
      launch(attention_forward_kernel<scalar_t, A, 32>, tile_grid(args, 32, "causal_attention"),
             forward_smem(32, D) * sizeof(A), args, O, L);
  });
}

void causal_attention_backward(Dtype dtype, const AttentionArgs& args, const void* out, const void* dout,
                               const void* lse, void* delta, void* dq, void* dk, void* dv) {
  if (args.batch * args.heads * args.seq == 0) return;
  const char* op = "causal_attention_backward";
  TTT_CUDA_DISPATCH_FLOAT(dtype, op, [&] {
    using A = typename Acc<scalar_t>::type;
    const int D = static_cast<int>(args.dim);
    auto dO = static_cast<const scalar_t*>(dout);
    auto L = static_cast<const A*>(lse);
    auto Dl = static_cast<A*>(delta);
    auto dQ = static_cast<scalar_t*>(dq);
    auto dK = static_cast<scalar_t*>(dk);
    auto dV = static_cast<scalar_t*>(dv);
    const int64_t rows = args.batch * args.heads * args.seq;
    TTT_LAUNCH(grid_for(rows, kThreads / 32), kThreads, 0, stream(), attention_delta_kernel<scalar_t, A>)
    (dO, static_cast<const scalar_t*>(out), Dl, rows, D);
    TTT_CUDA_CHECK_LAUNCH();
    if (pick_tile<A>(dkdv_smem, D, op) == 64)
      launch(attention_dkdv_kernel<scalar_t, A, 64>, tile_grid(args, 64, op), dkdv_smem(64, D) * sizeof(A), args, dO, L,
             static_cast<const A*>(Dl), dK, dV);
    else
      launch(attention_dkdv_kernel<scalar_t, A, 32>, tile_grid(args, 32, op), dkdv_smem(32, D) * sizeof(A), args, dO, L,
             static_cast<const A*>(Dl), dK, dV);
    if (pick_tile<A>(dq_smem, D, op) == 64)
      launch(attention_dq_kernel<scalar_t, A, 64>, tile_grid(args, 64, op), dq_smem(64, D) * sizeof(A), args, dO, L,
             static_cast<const A*>(Dl), dQ);
    else
      launch(attention_dq_kernel<scalar_t, A, 32>, tile_grid(args, 32, op), dq_smem(32, D) * sizeof(A), args, dO, L,
             static_cast<const A*>(Dl), dQ);
  });
}

}  // namespace tttlm::kernels::cuda
