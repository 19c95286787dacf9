// CUDA selective scan (contract in kernels/scan.h): one thread per (batch row, channel) walks t in order with
// its N states in registers (template kN >= N: 16 or 64), so loads of the (B, T, Di) rows are coalesced
// across a warp and Bm/Cm rows are broadcast. All scan math in f32 (f64 for f64), whatever the storage.
// Backward recomputes each chunk in two levels: the chunk's states every kSub steps go to a global scratch,
// then each sub-chunk's kSub states sit in thread-local memory while the adjoint recurrence runs over them.
// No atomics: dB/dC are warp-reduced per step into per-warp partials, and every cross-thread sum is a
// second kernel adding partials in index order, so results are bitwise reproducible run to run.
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/scratch.h"
#include "kernels/scan.h"

namespace tttlm::kernels::cuda {

namespace {

constexpr int kThreads = 128;  // channels per block
constexpr int kSub = 16;       // steps per backward sub-chunk (thread-local states: (kSub + 1) x kN)

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ float dev_exp(float x) { return expf(x); }
__device__ __forceinline__ double dev_exp(double x) { return exp(x); }
__device__ __forceinline__ float dev_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double dev_log1p(double x) { return log1p(x); }

// PyTorch's softplus with threshold 20 (docs/spec/mamba.md §3 step 5).
template <class P>
__device__ __forceinline__ P softplus(P s) {
  return s > P(20) ? s : dev_log1p(dev_exp(s));
}
template <class P>
__device__ __forceinline__ P sigmoid(P x) {
  return P(1) / (P(1) + dev_exp(-x));
}

// Operands of one call; P is the compute type (parameters, checkpoints, states).
template <class T>
struct Args {
  using P = typename Acc<T>::type;
  const T *u, *dr, *z, *Bm, *Cm;
  const P *A, *D, *bias;
  int64_t B, steps, Di, N, chunk, n_chunks;
};

template <class T>
Args<T> args_of(const ScanDims& d, const ScanInputs& in) {
  using P = typename Acc<T>::type;
  return {static_cast<const T*>(in.u),
          static_cast<const T*>(in.delta_raw),
          static_cast<const T*>(in.z),
          static_cast<const T*>(in.Bm),
          static_cast<const T*>(in.Cm),
          static_cast<const P*>(in.A),
          static_cast<const P*>(in.D),
          static_cast<const P*>(in.delta_bias),
          d.batch,
          d.steps,
          d.channels,
          d.states,
          d.chunk,
          d.n_chunks()};
}

// One step for channel c of row b at time t: h (kN) from h_{t-1} to h_t; sets Δ_t, returns the pre-gate
// y_t. Inactive threads (c >= Di, kept only for warp-wide reductions) read nothing and stay at zero.
template <class T, int kN>
__device__ __forceinline__ typename Acc<T>::type scan_step(const Args<T>& a, int64_t b, int64_t c, int64_t t,
                                                           bool active, const typename Acc<T>::type (&A)[kN],
                                                           typename Acc<T>::type bias, typename Acc<T>::type D,
                                                           typename Acc<T>::type (&h)[kN],
                                                           typename Acc<T>::type& delta) {
  using P = typename Acc<T>::type;
  const int64_t i = (b * a.steps + t) * a.Di + c;
  const P u = active ? ld(a.u, i) : P(0);
  delta = softplus((active ? ld(a.dr, i) : P(0)) + bias);
  const P du = delta * u;
  P y = D * u;
  const T* Bt = a.Bm + (b * a.steps + t) * a.N;
  const T* Ct = a.Cm + (b * a.steps + t) * a.N;
#pragma unroll
  for (int n = 0; n < kN; ++n)
    if (n < a.N) {
      h[n] = fma(dev_exp(delta * A[n]), h[n], du * ld(Bt, n));
      y = fma(ld(Ct, n), h[n], y);
    }
  return y;
}

template <class T, int kN>
__device__ __forceinline__ void load_params(const Args<T>& a, int64_t c, bool active, typename Acc<T>::type (&A)[kN],
                                            typename Acc<T>::type& bias, typename Acc<T>::type& D) {
  using P = typename Acc<T>::type;
#pragma unroll
  for (int n = 0; n < kN; ++n) A[n] = active && n < a.N ? a.A[c * a.N + n] : P(0);
  bias = active ? a.bias[c] : P(0);
  D = active ? a.D[c] : P(0);
}

// grid (ceil(Di / kThreads), B). ckpt (B, n_chunks, Di, N).
template <class T, int kN>
__global__ void scan_forward_kernel(Args<T> a, T* out, typename Acc<T>::type* ckpt) {
  using P = typename Acc<T>::type;
  const int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, b = blockIdx.y;
  if (c >= a.Di) return;
  P A[kN], h[kN], bias, D, delta;
  load_params<T, kN>(a, c, true, A, bias, D);
#pragma unroll
  for (int n = 0; n < kN; ++n) h[n] = P(0);
  for (int64_t t = 0; t < a.steps; ++t) {
    const P y = scan_step<T, kN>(a, b, c, t, true, A, bias, D, h, delta);
    const int64_t i = (b * a.steps + t) * a.Di + c;
    const P z = ld(a.z, i);
    st(out, i, y * (z * sigmoid(z)));
    if ((t + 1) % a.chunk == 0 || t + 1 == a.steps) {
      P* dst = ckpt + ((b * a.n_chunks + t / a.chunk) * a.Di + c) * a.N;
#pragma unroll
      for (int n = 0; n < kN; ++n)
        if (n < a.N) dst[n] = h[n];
    }
  }
}

// Backward outputs and scratch. sub: (B, n_sub, N, Di) sub-chunk start states of the current chunk;
// part_dA (B, Di, N), part_dD and part_db (B, Di), part_dB and part_dC (B, n_warps, T, N).
template <class T>
struct BackwardBuffers {
  using P = typename Acc<T>::type;
  const P* ckpt;
  const T* dout;
  T *du, *ddr, *dz;
  P *sub, *part_dA, *part_dD, *part_db, *part_dB, *part_dC;
  int64_t n_sub, n_warps;
};

// grid (ceil(Di / kThreads), B). Spec §5, chunks last to first; a warp past the last channel exits whole,
// the other warps keep their inactive lanes to the end for the warp reductions of dB and dC.
template <class T, int kN>
__global__ void scan_backward_kernel(Args<T> a, BackwardBuffers<T> o) {
  using P = typename Acc<T>::type;
  const int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, b = blockIdx.y;
  const int lane = threadIdx.x & 31;
  if (c - lane >= a.Di) return;
  const bool active = c < a.Di;
  const int64_t warp = c / 32;
  P A[kN], hhat[kN], anext[kN], dA[kN], bias, D, dD = 0, db = 0;
  load_params<T, kN>(a, c, active, A, bias, D);
#pragma unroll
  for (int n = 0; n < kN; ++n) hhat[n] = anext[n] = dA[n] = P(0);
  P hs[kSub + 1][kN], ys[kSub], ds[kSub];
  for (int64_t k = a.n_chunks - 1; k >= 0; --k) {
    const int64_t t0 = k * a.chunk, t1 = min64(a.steps, t0 + a.chunk);
    P h[kN], delta;
#pragma unroll
    for (int n = 0; n < kN; ++n)
      h[n] = active && k > 0 && n < a.N ? o.ckpt[((b * a.n_chunks + k - 1) * a.Di + c) * a.N + n] : P(0);
    for (int64_t t = t0; t < t1; ++t) {
      if ((t - t0) % kSub == 0 && active) {
        P* dst = o.sub + (b * o.n_sub + (t - t0) / kSub) * a.N * a.Di + c;
#pragma unroll
        for (int n = 0; n < kN; ++n)
          if (n < a.N) dst[n * a.Di] = h[n];
      }
      scan_step<T, kN>(a, b, c, t, active, A, bias, D, h, delta);
    }
    for (int64_t j = (t1 - t0 + kSub - 1) / kSub - 1; j >= 0; --j) {
      const int64_t s0 = t0 + j * kSub, s1 = min64(t1, s0 + kSub);
      const P* src = o.sub + (b * o.n_sub + j) * a.N * a.Di + c;
#pragma unroll
      for (int n = 0; n < kN; ++n) hs[0][n] = active && n < a.N ? src[n * a.Di] : P(0);
      for (int64_t t = s0; t < s1; ++t) {
        const int64_t i = t - s0;
#pragma unroll
        for (int n = 0; n < kN; ++n) hs[i + 1][n] = hs[i][n];
        ys[i] = scan_step<T, kN>(a, b, c, t, active, A, bias, D, hs[i + 1], ds[i]);
      }
      for (int64_t t = s1 - 1; t >= s0; --t) {
        const int64_t i = t - s0, idx = (b * a.steps + t) * a.Di + c;
        const P u = active ? ld(a.u, idx) : P(0), z = active ? ld(a.z, idx) : P(0);
        const P g = active ? ld(o.dout, idx) : P(0), sv = (active ? ld(a.dr, idx) : P(0)) + bias;
        const P dl = ds[i], sz = sigmoid(z), gy = g * z * sz;
        const P dzv = g * ys[i] * sz * (P(1) + z * (P(1) - sz));
        dD += gy * u;
        const P dud = dl * u;
        P ddelta = 0, shb = 0;
        const T* Bt = a.Bm + (b * a.steps + t) * a.N;
        const T* Ct = a.Cm + (b * a.steps + t) * a.N;
        const int64_t prow = ((b * o.n_warps + warp) * a.steps + t) * a.N;
#pragma unroll
        for (int n = 0; n < kN; ++n)
          if (n < a.N) {
            const P an = dev_exp(dl * A[n]);
            const P adj = fma(anext[n], hhat[n], gy * ld(Ct, n));  // ĥ_t = gy_t C_t + a_{t+1} ĥ_{t+1}
            hhat[n] = adj;
            anext[n] = an;
            const P w = adj * (an * hs[i][n]);  // ĥ_t · a_t h_{t-1}
            dA[n] = fma(w, dl, dA[n]);
            ddelta = fma(w, A[n], ddelta);
            shb = fma(adj, ld(Bt, n), shb);
            const P pb = warp_sum(adj * dud), pc = warp_sum(gy * hs[i + 1][n]);
            if (lane == 0) {
              o.part_dB[prow + n] = pb;
              o.part_dC[prow + n] = pc;
            }
          }
        const P dd = fma(u, shb, ddelta);
        const P dsv = sv > P(20) ? dd : dd * sigmoid(sv);
        db += dsv;
        if (active) {
          st(o.du, idx, fma(dl, shb, D * gy));
          st(o.ddr, idx, dsv);
          st(o.dz, idx, dzv);
        }
      }
    }
  }
  if (!active) return;
#pragma unroll
  for (int n = 0; n < kN; ++n)
    if (n < a.N) o.part_dA[(b * a.Di + c) * a.N + n] = dA[n];
  o.part_dD[b * a.Di + c] = dD;
  o.part_db[b * a.Di + c] = db;
}

// out[i] = Σ_b part[b, i] over part (B, n), in order of b.
template <class P>
__global__ void scan_sum_batch_kernel(const P* part, P* out, int64_t batch, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    P s = 0;
    for (int64_t b = 0; b < batch; ++b) s += part[b * n + i];
    out[i] = s;
  }
}

// out[b, r] = Σ_w part[b, w, r] over part (B, n_warps, rows), in order of w.
template <class T, class P>
__global__ void scan_sum_warps_kernel(const P* part, T* out, int64_t batch, int64_t n_warps, int64_t rows) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < batch * rows;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = i / rows, r = i % rows;
    P s = 0;
    for (int64_t w = 0; w < n_warps; ++w) s += part[(b * n_warps + w) * rows + r];
    st(out, i, s);
  }
}

// One decoding step per (b, c) thread: the arithmetic of scan_step on a state in memory.
template <class T>
__global__ void scan_step_kernel(Args<T> a, typename Acc<T>::type* state, T* out) {
  using P = typename Acc<T>::type;
  for (int64_t bc = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; bc < a.B * a.Di;
       bc += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = bc / a.Di, c = bc % a.Di;
    const P u = ld(a.u, bc), delta = softplus(ld(a.dr, bc) + a.bias[c]), du = delta * u;
    P y = a.D[c] * u;
    P* h = state + bc * a.N;
    for (int64_t n = 0; n < a.N; ++n) {
      h[n] = fma(dev_exp(delta * a.A[c * a.N + n]), h[n], du * ld(a.Bm, b * a.N + n));
      y = fma(ld(a.Cm, b * a.N + n), h[n], y);
    }
    const P z = ld(a.z, bc);
    st(out, bc, y * (z * sigmoid(z)));
  }
}

// Runs body.template operator()<kN>() with the smallest register budget kN >= N.
template <class F>
void dispatch_states(int64_t N, const char* op, F&& body) {
  TTT_CHECK(N <= 64, "[", op, "] N = ", N, " states; the CUDA kernels support N <= 64");
  if (N <= 16)
    body(std::integral_constant<int, 16>{});
  else
    body(std::integral_constant<int, 64>{});
}

dim3 grid_of(const ScanDims& d) {
  return dim3(static_cast<unsigned>((d.channels + kThreads - 1) / kThreads), static_cast<unsigned>(d.batch));
}

}  // namespace

void selective_scan_forward(Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* out, void* checkpoints) {
  if (dims.batch * dims.steps * dims.channels == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "selective_scan", [&] {
    using P = typename Acc<scalar_t>::type;
    dispatch_states(dims.states, "selective_scan", [&](auto kn) {
      TTT_LAUNCH(grid_of(dims), kThreads, 0, stream(), scan_forward_kernel<scalar_t, decltype(kn)::value>)
      (args_of<scalar_t>(dims, in), static_cast<scalar_t*>(out), static_cast<P*>(checkpoints));
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

void selective_scan_backward(Dtype dtype, const ScanDims& dims, const ScanInputs& in, const void* checkpoints,
                             const void* dout, const ScanGrads& grads) {
  TTT_CUDA_DISPATCH_FLOAT(dtype, "selective_scan_backward", [&] {
    using P = typename Acc<scalar_t>::type;
    const int64_t B = dims.batch, T = dims.steps, Di = dims.channels, N = dims.states;
    if (B * T * Di == 0) {  // nothing flows: every gradient is zero
      const size_t act = B * T * Di * sizeof(scalar_t), bc = B * T * N * sizeof(scalar_t);
      cuda_memset_zero(grads.du, act);
      cuda_memset_zero(grads.ddelta_raw, act);
      cuda_memset_zero(grads.dz, act);
      cuda_memset_zero(grads.dBm, bc);
      cuda_memset_zero(grads.dCm, bc);
      cuda_memset_zero(grads.dA, Di * N * sizeof(P));
      cuda_memset_zero(grads.dD, Di * sizeof(P));
      cuda_memset_zero(grads.ddelta_bias, Di * sizeof(P));
      return;
    }
    const int64_t n_sub = (std::min(dims.chunk, T) + kSub - 1) / kSub, n_warps = (Di + 31) / 32;
    Scratch sub(B * n_sub * N * Di * sizeof(P)), part_dA(B * Di * N * sizeof(P)), part_dD(B * Di * sizeof(P));
    Scratch part_db(B * Di * sizeof(P)), part_dB(B * n_warps * T * N * sizeof(P));
    Scratch part_dC(B * n_warps * T * N * sizeof(P));
    BackwardBuffers<scalar_t> o{static_cast<const P*>(checkpoints),
                                static_cast<const scalar_t*>(dout),
                                static_cast<scalar_t*>(grads.du),
                                static_cast<scalar_t*>(grads.ddelta_raw),
                                static_cast<scalar_t*>(grads.dz),
                                sub.as<P>(),
                                part_dA.as<P>(),
                                part_dD.as<P>(),
                                part_db.as<P>(),
                                part_dB.as<P>(),
                                part_dC.as<P>(),
                                n_sub,
                                n_warps};
    dispatch_states(N, "selective_scan_backward", [&](auto kn) {
      TTT_LAUNCH(grid_of(dims), kThreads, 0, stream(), scan_backward_kernel<scalar_t, decltype(kn)::value>)
      (args_of<scalar_t>(dims, in), o);
      TTT_CUDA_CHECK_LAUNCH();
    });
    TTT_LAUNCH(grid_for(Di * N), 256, 0, stream(), scan_sum_batch_kernel)
    (part_dA.as<P>(), static_cast<P*>(grads.dA), B, Di * N);
    TTT_CUDA_CHECK_LAUNCH();
    TTT_LAUNCH(grid_for(Di), 256, 0, stream(), scan_sum_batch_kernel)
    (part_dD.as<P>(), static_cast<P*>(grads.dD), B, Di);
    TTT_CUDA_CHECK_LAUNCH();
    TTT_LAUNCH(grid_for(Di), 256, 0, stream(), scan_sum_batch_kernel)
    (part_db.as<P>(), static_cast<P*>(grads.ddelta_bias), B, Di);
    TTT_CUDA_CHECK_LAUNCH();
    TTT_LAUNCH(grid_for(B * T * N), 256, 0, stream(), scan_sum_warps_kernel)
    (part_dB.as<P>(), static_cast<scalar_t*>(grads.dBm), B, n_warps, T * N);
    TTT_CUDA_CHECK_LAUNCH();
    TTT_LAUNCH(grid_for(B * T * N), 256, 0, stream(), scan_sum_warps_kernel)
    (part_dC.as<P>(), static_cast<scalar_t*>(grads.dCm), B, n_warps, T * N);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

void selective_scan_step(Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* state, void* out) {
  if (dims.batch * dims.channels == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "selective_scan_step", [&] {
    using P = typename Acc<scalar_t>::type;
    ScanDims one = dims;
    one.steps = 1;
    one.chunk = 1;
    TTT_LAUNCH(grid_for(dims.batch * dims.channels), 256, 0, stream(), scan_step_kernel)
    (args_of<scalar_t>(one, in), static_cast<P*>(state), static_cast<scalar_t*>(out));
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
