// CPU causal attention, FlashAttention-2 style: tiles of kTile queries x kTile keys, every product through
// kernels::cpu::gemm (inside our OpenMP region dnnl_sgemm runs single-threaded). Each task owns its output
// rows and visits its tiles in a fixed order, so the bits do not depend on the thread count. f32 exp is
// fast_exp (kernels/fast_math.h), a vectorisable Cephes polynomial; f64 uses std::exp.
#include "kernels/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include "core/allocator.h"
#include "kernels/dispatch.h"
#include "kernels/fast_math.h"
#include "kernels/gemm.h"

namespace tttlm::kernels::cpu {

namespace {

// 64 x 64 tiles keep S, P, dP and the q/k/v tiles of one task (D = 64: 80 KiB in f32) in L2.
constexpr int64_t kTile = 64;

struct Layout {
  int64_t heads, seq, dim;
  int64_t q_off(const AttentionArgs& a, int64_t bh) const {
    return (bh / heads) * a.q_stride[0] + (bh % heads) * a.q_stride[1];
  }
  int64_t k_off(const AttentionArgs& a, int64_t bh) const {
    return (bh / heads) * a.k_stride[0] + (bh % heads) * a.k_stride[1];
  }
  int64_t v_off(const AttentionArgs& a, int64_t bh) const {
    return (bh / heads) * a.v_stride[0] + (bh % heads) * a.v_stride[1];
  }
};

// C (m, n; ldc) = op(A) · op(B) + beta · C, single matrix.
template <class T>
void gemm1(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
           int64_t ldb, T* c, int64_t ldc, float beta) {
  GemmArgs g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.c = c;
  g.ldc = ldc;
  g.beta = beta;
  gemm(DtypeOf<T>::value, g);
}

// qs (rows, D) = scale · q[q0 : q0 + rows], the scaled query tile (JAX scales q before the product).
template <class T>
void load_scaled_q(const T* q, int64_t q_row_stride, int64_t q0, int64_t rows, int64_t D, T scale, T* qs) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* src = q + (q0 + r) * q_row_stride;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) qs[r * D + d] = scale * src[d];
  }
}

// max(init, x[0..n)). Lane-wise maxima over blocks of 16 vectorise; (a < b ? b : a) is vmaxps exactly.
template <class T>
T row_max(const T* x, int64_t n, T init) {
  constexpr int64_t kLanes = 16;
  T lane[kLanes];
  std::fill(lane, lane + kLanes, init);
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
#pragma omp simd
    for (int64_t w = 0; w < kLanes; ++w) lane[w] = lane[w] < x[c + w] ? x[c + w] : lane[w];
  for (; c < n; ++c) lane[0] = lane[0] < x[c] ? x[c] : lane[0];
  T mx = lane[0];
  for (int64_t w = 1; w < kLanes; ++w) mx = mx < lane[w] ? lane[w] : mx;
  return mx;
}

// Per-thread tiles, allocated before the parallel region (nothing throws inside it) and 64-byte aligned
// (so the GEMM sees the same alignment whichever thread runs a task). Thread i's piece i holds `sizes`.
template <class T>
class ThreadScratch {
 public:
  explicit ThreadScratch(std::initializer_list<int64_t> sizes) {
    for (int64_t n : sizes) {
      offsets_.push_back(per_thread_);
      per_thread_ += (n + 15) / 16 * 16;
    }
    data_ = static_cast<T*>(cpu_alloc(sizeof(T) * per_thread_ * omp_get_max_threads()));
  }
  ~ThreadScratch() { cpu_free(data_); }
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;
  // Piece i of the calling thread.
  T* get(size_t i) const { return data_ + omp_get_thread_num() * per_thread_ + offsets_[i]; }

 private:
  std::vector<int64_t> offsets_;
  int64_t per_thread_ = 0;
  T* data_ = nullptr;
};

// Number of keys k0 + c (c < cols) that query q may see: clamp(q − k0 + 1, 0, cols).
inline int64_t visible(int64_t q, int64_t k0, int64_t cols) { return std::clamp<int64_t>(q - k0 + 1, 0, cols); }

template <class T>
void forward_typed(const AttentionArgs& a, T* out, T* lse) {
  const Layout L{a.heads, a.seq, a.dim};
  const int64_t D = a.dim, Tn = a.seq, BH = a.batch * a.heads;
  const int64_t ntiles = (Tn + kTile - 1) / kTile;
  const T scale = static_cast<T>(a.scale);
  auto Q = static_cast<const T*>(a.q);
  auto K = static_cast<const T*>(a.k);
  auto V = static_cast<const T*>(a.v);
  ThreadScratch<T> scratch({kTile * D, kTile * kTile, kTile * D, kTile, kTile});
#pragma omp parallel
  {
    T *qs = scratch.get(0), *s = scratch.get(1), *acc = scratch.get(2), *m = scratch.get(3), *l = scratch.get(4);
    // Tasks run longest first (the last query tile sees every key) for load balance.
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < BH * ntiles; ++task) {
      const int64_t bh = task % BH, q0 = (ntiles - 1 - task / BH) * kTile;
      const int64_t rows = std::min(kTile, Tn - q0), last = q0 + rows - 1;
      const T* q = Q + L.q_off(a, bh);
      const T* k = K + L.k_off(a, bh);
      const T* v = V + L.v_off(a, bh);
      load_scaled_q(q, a.q_stride[2], q0, rows, D, scale, qs);
      std::fill(m, m + rows, -std::numeric_limits<T>::infinity());
      std::fill(l, l + rows, T(0));
      std::fill(acc, acc + rows * D, T(0));
      for (int64_t k0 = 0; k0 <= last; k0 += kTile) {
        const int64_t cols = std::min(kTile, last + 1 - k0);
        gemm1<T>(false, true, rows, cols, D, qs, D, k + k0 * a.k_stride[2], a.k_stride[2], s, kTile, 0.f);
        for (int64_t r = 0; r < rows; ++r) {
          T* sr = s + r * kTile;
          const int64_t n = visible(q0 + r, k0, cols);
          const T mx = row_max(sr, n, m[r]);
          const T alpha = fast_exp<ExpVariant::masked>(m[r] - mx);  // 0 on the first tile (m = −inf)
#pragma omp simd
          for (int64_t c = 0; c < n; ++c) sr[c] = fast_exp<ExpVariant::masked>(sr[c] - mx);
          T sum = 0;
#pragma omp simd reduction(+ : sum)
          for (int64_t c = 0; c < n; ++c) sum += sr[c];
          for (int64_t c = n; c < cols; ++c) sr[c] = 0;
          m[r] = mx;
          l[r] = l[r] * alpha + sum;
          if (alpha != T(1)) {
            T* ar = acc + r * D;
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) ar[d] *= alpha;
          }
        }
        gemm1<T>(false, false, rows, D, cols, s, kTile, v + k0 * a.v_stride[2], a.v_stride[2], acc, D, 1.f);
      }
      T* o = out + (bh * Tn + q0) * D;
      for (int64_t r = 0; r < rows; ++r) {
        const T inv = T(1) / l[r];
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[r * D + d] = acc[r * D + d] * inv;
        lse[bh * Tn + q0 + r] = m[r] + std::log(l[r]);
      }
    }
  }
}

// Recomputes one (query tile, key tile) block of the backward: p (rows, cols) = P, then ds (rows, cols) =
// P ⊙ (dP − delta) with dP = dO·Vᵀ. qs is the scaled query tile, dout the dO tile (ld D).
template <class T>
void backward_block(int64_t rows, int64_t cols, int64_t q0, int64_t k0, int64_t D, const T* qs, const T* dout,
                    const T* k, int64_t k_row_stride, const T* v, int64_t v_row_stride, const T* lse, const T* delta,
                    T* p, T* ds) {
  gemm1<T>(false, true, rows, cols, D, qs, D, k, k_row_stride, p, kTile, 0.f);
  gemm1<T>(false, true, rows, cols, D, dout, D, v, v_row_stride, ds, kTile, 0.f);
  for (int64_t r = 0; r < rows; ++r) {
    T* pr = p + r * kTile;
    T* dr = ds + r * kTile;
    const int64_t n = visible(q0 + r, k0, cols);
    const T lr = lse[r], dl = delta[r];
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) {
      pr[c] = fast_exp<ExpVariant::masked>(pr[c] - lr);
      dr[c] = pr[c] * (dr[c] - dl);
    }
    for (int64_t c = n; c < cols; ++c) pr[c] = dr[c] = 0;
  }
}

// The backward's tensors: dout (B·H, T, D) and lse (B·H, T) in; delta (B·H, T) scratch; dq, dk, dv out.
template <class T>
struct BackwardBuffers {
  const T *dout, *lse;
  T *delta, *dq, *dk, *dv;
};
// One thread's tiles: qs (kTile, D), p and ds (kTile, kTile).
template <class T>
struct Scratch {
  T *qs, *p, *ds;
};

// dK and dV of the key tile at k0 of head bh, from the query tiles that see it, in order; with_dq also adds
// each block's dS·K into dQ (unscaled), which is then only safe while one thread owns the whole head.
template <class T>
void key_tile_backward(const AttentionArgs& a, int64_t bh, int64_t k0, const BackwardBuffers<T>& g, const Scratch<T>& w,
                       bool with_dq) {
  const Layout L{a.heads, a.seq, a.dim};
  const int64_t D = a.dim, Tn = a.seq, cols = std::min(kTile, Tn - k0);
  const T* q = static_cast<const T*>(a.q) + L.q_off(a, bh);
  const T* k = static_cast<const T*>(a.k) + L.k_off(a, bh) + k0 * a.k_stride[2];
  const T* v = static_cast<const T*>(a.v) + L.v_off(a, bh) + k0 * a.v_stride[2];
  T* dkt = g.dk + (bh * Tn + k0) * D;
  T* dvt = g.dv + (bh * Tn + k0) * D;
  for (int64_t q0 = k0; q0 < Tn; q0 += kTile) {
    const int64_t rows = std::min(kTile, Tn - q0);
    const T* dot = g.dout + (bh * Tn + q0) * D;
    load_scaled_q(q, a.q_stride[2], q0, rows, D, static_cast<T>(a.scale), w.qs);
    backward_block(rows, cols, q0, k0, D, w.qs, dot, k, a.k_stride[2], v, a.v_stride[2], g.lse + bh * Tn + q0,
                   g.delta + bh * Tn + q0, w.p, w.ds);
    const float beta = q0 == k0 ? 0.f : 1.f;
    gemm1<T>(true, false, cols, D, rows, w.p, kTile, dot, D, dvt, D, beta);    // dV += Pᵀ·dO
    gemm1<T>(true, false, cols, D, rows, w.ds, kTile, w.qs, D, dkt, D, beta);  // dK += dSᵀ·(q·scale)
    if (with_dq)
      gemm1<T>(false, false, rows, D, cols, w.ds, kTile, k, a.k_stride[2], g.dq + (bh * Tn + q0) * D, D,
               k0 == 0 ? 0.f : 1.f);  // dQ += dS·K
  }
}

// dQ of the query tile at q0 of head bh, from the key tiles it sees, in order (the same blocks and order as
// key_tile_backward with with_dq), then scaled.
template <class T>
void query_tile_dq(const AttentionArgs& a, int64_t bh, int64_t q0, const BackwardBuffers<T>& g, const Scratch<T>& w) {
  const Layout L{a.heads, a.seq, a.dim};
  const int64_t D = a.dim, Tn = a.seq;
  const int64_t rows = std::min(kTile, Tn - q0), last = q0 + rows - 1;
  const T* k = static_cast<const T*>(a.k) + L.k_off(a, bh);
  const T* v = static_cast<const T*>(a.v) + L.v_off(a, bh);
  const T* dot = g.dout + (bh * Tn + q0) * D;
  T* dqt = g.dq + (bh * Tn + q0) * D;
  load_scaled_q(static_cast<const T*>(a.q) + L.q_off(a, bh), a.q_stride[2], q0, rows, D, static_cast<T>(a.scale), w.qs);
  for (int64_t k0 = 0; k0 <= last; k0 += kTile) {
    const int64_t cols = std::min(kTile, last + 1 - k0);
    backward_block(rows, cols, q0, k0, D, w.qs, dot, k + k0 * a.k_stride[2], a.k_stride[2], v + k0 * a.v_stride[2],
                   a.v_stride[2], g.lse + bh * Tn + q0, g.delta + bh * Tn + q0, w.p, w.ds);
    gemm1<T>(false, false, rows, D, cols, w.ds, kTile, k + k0 * a.k_stride[2], a.k_stride[2], dqt, D,
             k0 == 0 ? 0.f : 1.f);  // dQ += dS·K
  }
  const T scale = static_cast<T>(a.scale);
#pragma omp simd
  for (int64_t i = 0; i < rows * D; ++i) dqt[i] *= scale;
}

template <class T>
void backward_typed(const AttentionArgs& a, const T* out, const BackwardBuffers<T>& out_grads) {
  const int64_t D = a.dim, Tn = a.seq, BH = a.batch * a.heads;
  const int64_t ntiles = (Tn + kTile - 1) / kTile;
  const T scale = static_cast<T>(a.scale);
  T* delta = out_grads.delta;
  const T* dout = out_grads.dout;
  T* dq = out_grads.dq;
  ThreadScratch<T> scratch({kTile * D, kTile * kTile, kTile * kTile});
#pragma omp parallel
  {
    // delta = rowsum(dO ⊙ O) (FlashAttention-2, Algorithm 2 line 4).
#pragma omp for schedule(static)
    for (int64_t row = 0; row < BH * Tn; ++row) {
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t d = 0; d < D; ++d) s += dout[row * D + d] * out[row * D + d];
      delta[row] = s;
    }
    const Scratch<T> w{scratch.get(0), scratch.get(1), scratch.get(2)};
    // With enough heads per thread one task owns a whole (b, h): it walks key tiles in order and adds each
    // block's dS·K into dQ as it goes. Otherwise dQ gets its own pass over query tiles (recomputing P and
    // dS) so that no two threads write one row. Both add the same blocks in the same order: same bits.
    const int64_t nthreads = omp_get_num_threads();
    if (BH % nthreads == 0 || BH >= 4 * nthreads) {
#pragma omp for schedule(dynamic, 1)
      for (int64_t bh = 0; bh < BH; ++bh) {
        for (int64_t k0 = 0; k0 < Tn; k0 += kTile) key_tile_backward(a, bh, k0, out_grads, w, /*with_dq=*/true);
#pragma omp simd
        for (int64_t i = 0; i < Tn * D; ++i) dq[bh * Tn * D + i] *= scale;
      }
    } else {
      // Key tile j meets (ntiles − j) query tiles, so the first key tiles run first.
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < BH * ntiles; ++task)
        key_tile_backward(a, task % BH, (task / BH) * kTile, out_grads, w, /*with_dq=*/false);
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < BH * ntiles; ++task) {
        const int64_t bh = task % BH, q0 = (ntiles - 1 - task / BH) * kTile;
        query_tile_dq(a, bh, q0, out_grads, w);
      }
    }
  }
}

}  // namespace

void causal_attention_forward(Dtype dtype, const AttentionArgs& args, void* out, void* lse) {
  if (args.batch * args.heads * args.seq == 0) return;
  dispatch_float(dtype, "causal_attention", [&](auto tag) {
    using T = TTT_T(tag);
    forward_typed<T>(args, static_cast<T*>(out), static_cast<T*>(lse));
  });
}

void causal_attention_backward(Dtype dtype, const AttentionArgs& args, const void* out, const void* dout,
                               const void* lse, void* delta, void* dq, void* dk, void* dv) {
  if (args.batch * args.heads * args.seq == 0) return;
  dispatch_float(dtype, "causal_attention_backward", [&](auto tag) {
    using T = TTT_T(tag);
    const BackwardBuffers<T> g{static_cast<const T*>(dout), static_cast<const T*>(lse), static_cast<T*>(delta),
                               static_cast<T*>(dq),         static_cast<T*>(dk),        static_cast<T*>(dv)};
    backward_typed<T>(args, static_cast<const T*>(out), g);
  });
}

}  // namespace tttlm::kernels::cpu
