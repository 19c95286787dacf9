// CPU side of the TTT kernels: the serial executor that runs the per-(b, h) dual-form math of
// kernels/ttt_dual*.h inside one OpenMP thread (small products as plain loops vectorised with `omp simd`,
// always in the same order, so results do not depend on the thread count), and the fixed-order sums of
// per-(b, h) parameter gradients.
#pragma once

#include <cstdint>

#include "kernels/ttt_dual.h"

namespace tttlm::kernels::cpu::ttt_detail {

using ttt_dual::Mm;

struct CpuExec {
  template <class F>
  void for_n(int64_t n, F&& f) {
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  // C (M, N) op= A (M, K) · B (K, N)
  template <class T>
  void mm_nn(Mm mode,
             int64_t M,
             int64_t N,
             int64_t K,
             const T* __restrict A,
             const T* __restrict B,
             T* __restrict C) {
    const T sign = (mode == Mm::sub || mode == Mm::set_neg) ? T(-1) : T(1);
    for (int64_t i = 0; i < M; ++i) {
      T* ci = C + i * N;
      if (mode == Mm::set || mode == Mm::set_neg)
        for (int64_t j = 0; j < N; ++j) ci[j] = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T a = sign * A[i * K + k];
        const T* bk = B + k * N;
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) ci[j] += a * bk[j];
      }
    }
  }
  // C (M, N) op= A (M, K) · B (N, K)ᵀ
  template <class T>
  void mm_nt(Mm mode,
             int64_t M,
             int64_t N,
             int64_t K,
             const T* __restrict A,
             const T* __restrict B,
             T* __restrict C) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const T* ai = A + i * K;
        const T* bj = B + j * K;
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t k = 0; k < K; ++k) s += ai[k] * bj[k];
        T& c = C[i * N + j];
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
  }
  // C (M, N) op= A (K, M)ᵀ · B (K, N)
  template <class T>
  void mm_tn(Mm mode,
             int64_t M,
             int64_t N,
             int64_t K,
             const T* __restrict A,
             const T* __restrict B,
             T* __restrict C) {
    const T sign = (mode == Mm::sub || mode == Mm::set_neg) ? T(-1) : T(1);
    if (mode == Mm::set || mode == Mm::set_neg)
      for (int64_t i = 0; i < M * N; ++i) C[i] = 0;
    for (int64_t k = 0; k < K; ++k) {
      const T* ak = A + k * M;
      const T* bk = B + k * N;
      for (int64_t i = 0; i < M; ++i) {
        const T a = sign * ak[i];
        T* ci = C + i * N;
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) ci[j] += a * bk[j];
      }
    }
  }
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

}  // namespace tttlm::kernels::cpu::ttt_detail
