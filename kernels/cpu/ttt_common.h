// CPU side of the TTT kernels: the serial executor that runs the per-(b, h) dual-form math of
// kernels/ttt_dual*.h inside one OpenMP thread (small products from small_gemm.h, loops vectorised with
// `omp simd`, always in the same order, so results do not depend on the thread count), the per-thread
// workspaces, and the fixed-order sums of per-(b, h) parameter gradients.
#pragma once

#include <omp.h>

#include <cstdint>
#include <vector>

#include "core/allocator.h"
#include "kernels/cpu/small_gemm.h"
#include "kernels/ttt_dual.h"

namespace tttlm::kernels::cpu::ttt_detail {

using small_gemm::mm_nt_by_columns;
using small_gemm::mm_strided;
using small_gemm::Simd;
using small_gemm::transpose_into;
using ttt_dual::Mm;

// The dual form's store modes are small_gemm's, value for value.
inline small_gemm::Mm gemm_mode(Mm mode) { return static_cast<small_gemm::Mm>(mode); }
static_assert(static_cast<int>(small_gemm::Mm::set) == static_cast<int>(Mm::set) &&
              static_cast<int>(small_gemm::Mm::add) == static_cast<int>(Mm::add) &&
              static_cast<int>(small_gemm::Mm::sub) == static_cast<int>(Mm::sub) &&
              static_cast<int>(small_gemm::Mm::set_neg) == static_cast<int>(Mm::set_neg));

// Uninitialised memory from the caching CPU allocator, taken before a parallel region (nothing throws
// inside it); big blocks are reused across calls without page faults.
template <class T>
class CpuBuffer {
 public:
  explicit CpuBuffer(int64_t n) : data_(static_cast<T*>(cpu_alloc(sizeof(T) * static_cast<size_t>(n)))) {}
  ~CpuBuffer() { cpu_free(data_); }
  CpuBuffer(const CpuBuffer&) = delete;
  CpuBuffer& operator=(const CpuBuffer&) = delete;
  T* data() const { return data_; }

 private:
  T* data_;
};

// One workspace of `n` elements per OpenMP thread; get() is the calling thread's.
template <class T>
class ThreadWorkspaces {
 public:
  explicit ThreadWorkspaces(int64_t n) : stride_((n + 15) / 16 * 16), buf_(stride_ * omp_get_max_threads()) {}
  T* get() const { return buf_.data() + omp_get_thread_num() * stride_; }

 private:
  int64_t stride_;
  CpuBuffer<T> buf_;
};

struct CpuExec {
  template <class F>
  void for_n(int64_t n, F&& f) {
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  // The simd loops are flattened: f and everything it calls (gelu, tanh) inlined into the loop body, which
  // must hold no call to vectorise. g++'s own inlining left gelu's lambdas as calls once they grew (TTT-MLP's
  // forward ran scalar, at half speed; bench/results/refactor_speed.md).
  template <class F>
  __attribute__((flatten)) void for_each(int64_t n, F&& f) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  template <class F>
  __attribute__((flatten)) void for_rows(int64_t rows, int64_t cols, F&& f) {
    for (int64_t i = 0; i < rows; ++i) {
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) f(i, j);
    }
  }
  // C (M, N) op= A (M, K) · B (K, N)
  template <class T>
  void mm_nn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    mm_strided(gemm_mode(mode), M, N, K, A, K, 1, B, C);
  }
  // C (M, N) op= A (M, K) · B (N, K)ᵀ (row-times-row dot products would each end in a horizontal sum):
  // as A · (Bᵀ copied once), or by blocks of Cᵀ from Aᵀ when transposing A and the result moves fewer
  // L x L blocks than transposing B (few rows M: the mini-batch against a D x I matrix).
  template <class T>
  void mm_nt(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    constexpr int64_t L = Simd<T>::kLanes;
    const int64_t mb = (M + L - 1) / L, nb = (N + L - 1) / L, kb = (K + L - 1) / L;
    const bool by_columns = mb * (kb + nb) < nb * kb;
    const int64_t need = by_columns ? K * L : N * K;
    if (bt_.size() < static_cast<size_t>(need) * sizeof(T)) bt_.resize(static_cast<size_t>(need) * sizeof(T));
    T* bt = reinterpret_cast<T*>(bt_.data());
    if (by_columns) {
      mm_nt_by_columns(gemm_mode(mode), M, N, K, A, B, C, bt);
    } else {
      transpose_into(N, K, B, bt);
      mm_strided(gemm_mode(mode), M, N, K, A, K, 1, bt, C);
    }
  }
  // C (M, N) op= A (K, M)ᵀ · B (K, N)
  template <class T>
  void mm_tn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    mm_strided(gemm_mode(mode), M, N, K, A, 1, M, B, C);
  }

  // acc[c] += sign·Σ_i x[i, c], rows in order, 64 columns at a time.
  template <class T>
  void add_col_sums(int64_t rows, int64_t cols, const T* x, T* acc, T sign) {
    constexpr int64_t kc = 64;
    for (int64_t c0 = 0; c0 < cols; c0 += kc) {
      const int64_t n = cols - c0 < kc ? cols - c0 : kc;
      T s[kc];
      for (int64_t c = 0; c < n; ++c) s[c] = 0;
      for (int64_t i = 0; i < rows; ++i) {
        const T* xi = x + i * cols + c0;
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) s[c] += xi[c];
      }
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) acc[c0 + c] += sign * s[c];
    }
  }

 private:
  std::vector<char> bt_;  // Bᵀ for mm_nt
};

// out (H, len)[h, i] = Σ_b per_bh[(b·H + h)·n + offset + i], b in order.
template <class T>
void sum_over_batch(const T* per_bh, int64_t B, int64_t H, int64_t n, int64_t offset, int64_t len, T* out) {
#pragma omp parallel for schedule(static) if (H * len > (1 << 14))
  for (int64_t hi = 0; hi < H * len; ++hi) {
    int64_t h = hi / len, i = hi % len;
    T s = 0;
    for (int64_t b = 0; b < B; ++b) s += per_bh[(b * H + h) * n + offset + i];
    out[hi] = s;
  }
}

// out (n)[i] = Σ_bh per_bh[bh·n + i], bh in order.
template <class T>
void sum_over_heads(const T* per_bh, int64_t BH, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    T s = 0;
    for (int64_t bh = 0; bh < BH; ++bh) s += per_bh[bh * n + i];
    out[i] = s;
  }
}

// Runs f(ex, bh, workspace) for every (b, h) pair bh in [0, BH), one per OpenMP iteration, each thread with
// its own workspace of ws_size elements.
template <class T, class F>
void for_each_head(int64_t BH, int64_t ws_size, F&& f) {
  const ThreadWorkspaces<T> ws(ws_size);
#pragma omp parallel
  {
    CpuExec ex;
#pragma omp for schedule(dynamic, 1)
    for (int64_t bh = 0; bh < BH; ++bh) f(ex, bh, ws.get());
  }
}

// The backward driver of every inner model: per-(b, h) parameter-gradient scratch (every element written by
// the head kernel), head_backward(ex, head, its snapshots, its HeadGrads (dout rows in), workspace) for
// each (b, h), then the sums over the batch of the LayerNorm and token-eta gradients, in order;
// sum_state(dstate) sums the per-(b, h) inner-state gradients (BH x S) into the variant's parameters.
template <class T, class F, class G>
void backward_heads(const TttDims& dims, const TttSequence& seq, const void* snapshots, const void* dout,
                    const TttSequenceGrads& grads, int64_t S, int64_t ws_size, F&& head_backward, G&& sum_state) {
  const int64_t B = dims.batch, H = dims.heads, BH = B * H, d = dims.dim, m = dims.mini_batch;
  const CpuBuffer<T> dstate(BH * S), dtau(BH * m), dgamma(BH * d), dbeta(BH * d);
  auto C = static_cast<const T*>(snapshots);
  auto dO = static_cast<const T*>(dout);
  for_each_head<T>(BH, ws_size, [&](CpuExec& ex, int64_t bh, T* ws) {
    const int64_t rows = bh * dims.seq * d;
    ttt_dual::HeadGrads<T> gr{dO + rows,
                              static_cast<T*>(grads.dxq) + rows,
                              static_cast<T*>(grads.dxk) + rows,
                              static_cast<T*>(grads.dxv) + rows,
                              static_cast<T*>(grads.dttt_lr) + bh * dims.seq,
                              dtau.data() + bh * m,
                              dgamma.data() + bh * d,
                              dbeta.data() + bh * d,
                              dstate.data() + bh * S};
    head_backward(ex, ttt_dual::head_at<T>(dims, seq, bh), C + bh * dims.num_snapshots() * S, gr, ws);
  });
  sum_state(static_cast<const T*>(dstate.data()));
  sum_over_batch(dgamma.data(), B, H, d, 0, d, static_cast<T*>(grads.dln_weight));
  sum_over_batch(dbeta.data(), B, H, d, 0, d, static_cast<T*>(grads.dln_bias));
  sum_over_heads(dtau.data(), BH, m, static_cast<T*>(grads.dtoken_eta));
}

}  // namespace tttlm::kernels::cpu::ttt_detail
