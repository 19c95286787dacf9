// The TTT dual form on CUDA for every inner model: one thread block per (b, h) runs the same per-(b, h) math
// as the CPU (kernels/ttt_dual*.h, the generic drivers over the model's traits) through a block executor: for_n spreads
// indices over the block's threads and ends with __syncthreads(); small products compute one output element per thread.
// State, caches and scratch live in a global workspace (one slice per block). bf16 tensors are converted to f32 first
// and the results back. Parameter gradients are summed per (b, h), then over b by a second kernel, in order. Correct
// first: no shared-memory tiling and only B·H blocks, so it is far from the GPU's peak.
#include <type_traits>
#include <vector>

#include "core/allocator.h"
#include "kernels/cuda/common.cuh"
#include <string>

#include "kernels/ttt.h"
#include "kernels/ttt_inner.h"

namespace tttlm::kernels::cuda {

namespace {

using namespace ttt_dual;

constexpr int kThreads = 256;

template <class T>
__device__ __forceinline__ void mm_store(Mm mode, T& c, T s) {
  switch (mode) {
    case Mm::set:
      c = s;
      break;
    case Mm::add:
      c += s;
      break;
    case Mm::sub:
      c -= s;
      break;
    case Mm::set_neg:
      c = -s;
      break;
  }
}

struct BlockExec {
  template <class F>
  __device__ void for_n(int64_t n, F&& f) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) f(i);
    __syncthreads();
  }
  template <class F>
  __device__ void for_each(int64_t n, F&& f) {
    for_n(n, f);
  }
  template <class F>
  __device__ void for_rows(int64_t rows, int64_t cols, F&& f) {
    for (int64_t idx = threadIdx.x; idx < rows * cols; idx += blockDim.x) f(idx / cols, idx % cols);
    __syncthreads();
  }
  // acc[c] += sign·Σ_i x[i, c], one column per thread, rows in order
  template <class T>
  __device__ void add_col_sums(int64_t rows, int64_t cols, const T* x, T* acc, T sign) {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      T s = 0;
      for (int64_t i = 0; i < rows; ++i) s += x[i * cols + c];
      acc[c] += sign * s;
    }
    __syncthreads();
  }
  // C (M, N) op= A·B with A(i, k) = A[i·a_i + k·a_k], B(k, j) = B[k·b_k + j·b_j]: one output element per
  // thread, each a sum over k in order.
  template <class T>
  __device__ void product(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_i, int64_t a_k, const T* B,
                          int64_t b_k, int64_t b_j, T* C) {
    for (int64_t idx = threadIdx.x; idx < M * N; idx += blockDim.x) {
      const int64_t i = idx / N, j = idx % N;
      T s = 0;
      for (int64_t k = 0; k < K; ++k) s += A[i * a_i + k * a_k] * B[k * b_k + j * b_j];
      mm_store(mode, C[idx], s);
    }
    __syncthreads();
  }
  // C (M, N) op= A (M, K) · B (K, N)
  template <class T>
  __device__ void mm_nn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(mode, M, N, K, A, K, 1, B, N, 1, C);
  }
  // C (M, N) op= A (M, K) · B (N, K)ᵀ
  template <class T>
  __device__ void mm_nt(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(mode, M, N, K, A, K, 1, B, 1, K, C);
  }
  // C (M, N) op= A (K, M)ᵀ · B (K, N)
  template <class T>
  __device__ void mm_tn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(mode, M, N, K, A, 1, M, B, N, 1, C);
  }
};

// The head's slices of the (H, ...) inner parameters.
template <class Inner, class T>
__device__ ParamPtrs<const T> head_params(const TttInnerParams& p, int64_t h, int64_t d, int64_t I) {
  ParamPtrs<const T> hp;
  for (int i = 0; i < Inner::kNumParams; ++i)
    hp.p[i] = static_cast<const T*>(p.p[i]) + h * head_numel(Inner::param(i), d, I);
  return hp;
}

template <class Inner, class T>
__global__ void ttt_forward_kernel(TttDims dims, TttSequence seq, TttInnerParams p, T* out, T* ckpt,
                                   int64_t ckpt_stride, T* ws, int64_t ws_size) {
  BlockExec ex;
  const int64_t bh = blockIdx.x, h = bh % dims.heads;
  head_forward<Inner>(ex, head_at<T>(dims, seq, bh), head_params<Inner, T>(p, h, dims.dim, dims.hidden),
                      out + bh * dims.seq * dims.dim, ckpt ? ckpt + bh * ckpt_stride : static_cast<T*>(nullptr),
                      ws + bh * ws_size);
}

// Per-(b, h) gradient buffers: dstate (B·H, S), dtau (B·H, m), dgamma and dbeta (B·H, D).
template <class T>
struct PerHead {
  T *dstate, *dtau, *dgamma, *dbeta;
};

template <class T>
__device__ HeadGrads<T> head_grads_at(const TttDims& dims, const T* dout, const TttSequenceGrads& g,
                                      const PerHead<T>& ph, int64_t S, int64_t bh) {
  const int64_t rows = bh * dims.seq * dims.dim;
  return {dout + rows,
          static_cast<T*>(g.dxq) + rows,
          static_cast<T*>(g.dxk) + rows,
          static_cast<T*>(g.dxv) + rows,
          static_cast<T*>(g.dttt_lr) + bh * dims.seq,
          ph.dtau + bh * dims.mini_batch,
          ph.dgamma + bh * dims.dim,
          ph.dbeta + bh * dims.dim,
          ph.dstate + bh * S};
}

template <class Inner, class T>
__global__ void ttt_backward_kernel(TttDims dims, TttSequence seq, const T* ckpt, int64_t ckpt_stride, const T* dout,
                                    TttSequenceGrads g, PerHead<T> ph, T* ws, int64_t ws_size) {
  BlockExec ex;
  const int64_t bh = blockIdx.x;
  head_backward<Inner>(ex, head_at<T>(dims, seq, bh), ckpt + bh * ckpt_stride,
                       head_grads_at(dims, dout, g, ph, state_size<Inner>(dims.dim, dims.hidden), bh),
                       ws + bh * ws_size);
}

// out (H, len)[h, i] = Σ_b per_bh[(b·H + h)·n + offset + i], b in order (groups = H; B·H when groups = 1
// sums over every (b, h)).
template <class C, class S>
__global__ void sum_groups_kernel(const C* per_bh, int64_t count, int64_t groups, int64_t n, int64_t offset,
                                  int64_t len, S* out) {
  for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < groups * len;
       idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t g = idx / len, i = idx % len;
    C s = 0;
    for (int64_t b = 0; b < count; ++b) s += per_bh[(b * groups + g) * n + offset + i];
    st(out, idx, s);
  }
}

template <class S, class C>
__global__ void convert_kernel(const S* in, C* out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    st(out, i, ld(in, i));
}

// Device scratch from the caching allocator, freed (stream-ordered) when the owner goes out of scope; and
// compute-type views of storage-type tensors: the tensor itself when the types agree, else a converted copy
// (outputs are converted back by flush()).
template <class S, class C>
class Workspace {
 public:
  Workspace() : device_(cuda_current_device()) {}
  ~Workspace() {
    for (void* p : blocks_) cuda_free(p, device_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  C* alloc(int64_t n) {
    blocks_.push_back(cuda_alloc(static_cast<size_t>(n > 0 ? n : 1) * sizeof(C), device_));
    return static_cast<C*>(blocks_.back());
  }
  const C* in(const void* p, int64_t n) {
    if constexpr (std::is_same_v<S, C>) {
      return static_cast<const C*>(p);
    } else {
      C* c = alloc(n);
      if (n > 0) {
        TTT_LAUNCH(grid_for(n), kThreads, 0, stream(), convert_kernel)(static_cast<const S*>(p), c, n);
        TTT_CUDA_CHECK_LAUNCH();
      }
      return c;
    }
  }
  C* out(void* p, int64_t n) {
    if constexpr (std::is_same_v<S, C>) {
      return static_cast<C*>(p);
    } else {
      C* c = alloc(n);
      pending_.push_back({c, p, n});
      return c;
    }
  }
  void flush() {
    for (const Pending& o : pending_)
      if (o.n > 0) {
        TTT_LAUNCH(grid_for(o.n), kThreads, 0, stream(), convert_kernel)(o.c, static_cast<S*>(o.p), o.n);
        TTT_CUDA_CHECK_LAUNCH();
      }
    pending_.clear();
  }

 private:
  struct Pending {
    C* c;
    void* p;
    int64_t n;
  };
  int device_;
  std::vector<void*> blocks_;
  std::vector<Pending> pending_;
};

template <class S, class C>
TttSequence stage_sequence(Workspace<S, C>& w, const TttDims& d, const TttSequence& s) {
  const int64_t rows = d.batch * d.heads * d.seq;
  TttSequence c;
  c.xq = w.in(s.xq, rows * d.dim);
  c.xk = w.in(s.xk, rows * d.dim);
  c.xv = w.in(s.xv, rows * d.dim);
  c.token_eta = w.in(s.token_eta, d.mini_batch);
  c.ttt_lr = w.in(s.ttt_lr, rows);
  c.ln_weight = w.in(s.ln_weight, d.heads * d.dim);
  c.ln_bias = w.in(s.ln_bias, d.heads * d.dim);
  return c;
}

template <class S, class C>
void sum_groups(const C* per_bh, int64_t count, int64_t groups, int64_t n, int64_t offset, int64_t len, void* out) {
  if (groups * len == 0) return;
  TTT_LAUNCH(grid_for(groups * len), kThreads, 0, stream(), sum_groups_kernel)
  (per_bh, count, groups, n, offset, len, static_cast<S*>(out));
  TTT_CUDA_CHECK_LAUNCH();
}

// The shared half of the backward launcher: staged inputs and outputs, per-(b, h) buffers, the kernel
// (launch(ws, ws_size, ...)), then the sums of the sequence-level parameter gradients.
template <class S, class C, class Launch>
void run_backward(const TttDims& d, const TttSequence& seq, const TttSequenceGrads& g, int64_t state_size,
                  int64_t ws_size, const void* dout, Launch&& launch, Workspace<S, C>& w, PerHead<C>& ph) {
  const int64_t BH = d.batch * d.heads, rows = BH * d.seq;
  TttSequence cs = stage_sequence(w, d, seq);
  const C* cdout = w.in(dout, rows * d.dim);
  TttSequenceGrads cg;
  cg.dxq = w.out(g.dxq, rows * d.dim);
  cg.dxk = w.out(g.dxk, rows * d.dim);
  cg.dxv = w.out(g.dxv, rows * d.dim);
  cg.dttt_lr = w.out(g.dttt_lr, rows);
  ph.dstate = w.alloc(BH * state_size);
  ph.dtau = w.alloc(BH * d.mini_batch);
  ph.dgamma = w.alloc(BH * d.dim);
  ph.dbeta = w.alloc(BH * d.dim);
  C* ws = w.alloc(BH * ws_size);
  if (BH > 0) launch(cs, cdout, cg, ws);
  sum_groups<S>(ph.dgamma, d.batch, d.heads, d.dim, 0, d.dim, g.dln_weight);
  sum_groups<S>(ph.dbeta, d.batch, d.heads, d.dim, 0, d.dim, g.dln_bias);
  sum_groups<S>(ph.dtau, BH, 1, d.mini_batch, 0, d.mini_batch, g.dtoken_eta);
}

}  // namespace

void ttt_forward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttInnerParams& params, void* out,
                 void* snapshots) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    TTT_CUDA_DISPATCH_FLOAT(dtype, Inner::kOp, [&] {
      using C = typename Acc<scalar_t>::type;
      const int64_t BH = dims.batch * dims.heads, d = dims.dim, I = dims.hidden;
      if (BH == 0) return;
      Workspace<scalar_t, C> w;
      TttSequence cs = stage_sequence(w, dims, seq);
      TttInnerParams cp;
      for (int i = 0; i < Inner::kNumParams; ++i)
        cp.p[i] = w.in(params.p[i], dims.heads * head_numel(Inner::param(i), d, I));
      C* o = w.out(out, BH * dims.seq * d);
      const int64_t ws_size = forward_workspace<Inner>(dims.mini_batch, d, I);
      C* ws = w.alloc(BH * ws_size);
      TTT_LAUNCH(static_cast<unsigned>(BH), kThreads, 0, stream(), ttt_forward_kernel<Inner, C>)
      (dims, cs, cp, o, static_cast<C*>(snapshots), dims.num_snapshots() * state_size<Inner>(d, I), ws, ws_size);
      TTT_CUDA_CHECK_LAUNCH();
      w.flush();
    });
  });
}

void ttt_backward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const void* snapshots, const void* dout,
                  const TttSequenceGrads& grads, const TttInnerGrads& param_grads) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    const std::string op = std::string(Inner::kOp) + "_backward";
    TTT_CUDA_DISPATCH_FLOAT(dtype, op.c_str(), [&] {
      using C = typename Acc<scalar_t>::type;
      const int64_t d = dims.dim, I = dims.hidden, S = state_size<Inner>(d, I), nmb = dims.num_mini_batches();
      const int64_t group = dims.snapshot_every < nmb ? dims.snapshot_every : nmb;
      const int64_t ws_size = backward_workspace<Inner>(dims.mini_batch, d, I, group);
      Workspace<scalar_t, C> w;
      PerHead<C> ph;
      auto launch = [&](const TttSequence& cs, const C* cdout, const TttSequenceGrads& cg, C* ws) {
        TTT_LAUNCH(static_cast<unsigned>(dims.batch * dims.heads), kThreads, 0, stream(), ttt_backward_kernel<Inner, C>)
        (dims, cs, static_cast<const C*>(snapshots), dims.num_snapshots() * S, cdout, cg, ph, ws, ws_size);
        TTT_CUDA_CHECK_LAUNCH();
      };
      run_backward(dims, seq, grads, S, ws_size, dout, launch, w, ph);
      for (int i = 0; i < Inner::kNumParams; ++i)
        sum_groups<scalar_t>(ph.dstate, dims.batch, dims.heads, S, state_offset<Inner>(i, d, I),
                             head_numel(Inner::param(i), d, I), param_grads.p[i]);
      w.flush();
    });
  });
}

}  // namespace tttlm::kernels::cuda
