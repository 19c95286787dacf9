// CPU side of the TTT kernels: the serial executor that runs the per-(b, h) dual-form math of
// kernels/ttt_dual*.h inside one OpenMP thread (small products as plain loops vectorised with `omp simd`,
// always in the same order, so results do not depend on the thread count), and the fixed-order sums of
// per-(b, h) parameter gradients.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ttt_dual.h"

namespace tttlm::kernels::cpu::ttt_detail {

using ttt_dual::Mm;

template <class T>
constexpr T sign_of(Mm mode) {
  return (mode == Mm::sub || mode == Mm::set_neg) ? T(-1) : T(1);
}

// c (N) += sign·Σ_k a[k·a_stride]·B[k, :] over k < K, four k per pass over c.
template <class T>
inline void row_update(
    T* __restrict c, const T* a, int64_t a_stride, T sign, const T* __restrict B, int64_t N, int64_t K) {
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    T a_[8];
    const T* b_[8];
    for (int u = 0; u < 8; ++u) a_[u] = sign * a[(k + u) * a_stride], b_[u] = B + (k + u) * N;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j)
      c[j] += ((a_[0] * b_[0][j] + a_[1] * b_[1][j]) + (a_[2] * b_[2][j] + a_[3] * b_[3][j])) +
              ((a_[4] * b_[4][j] + a_[5] * b_[5][j]) + (a_[6] * b_[6][j] + a_[7] * b_[7][j]));
  }
  for (; k < K; ++k) {
    const T a0 = sign * a[k * a_stride];
    const T* b0 = B + k * N;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) c[j] += a0 * b0[j];
  }
}

struct CpuExec {
  template <class F>
  void for_n(int64_t n, F&& f) {
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  template <class F>
  void for_each(int64_t n, F&& f) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) f(i);
  }
  // C (M, N) op= A (M, K) · B (K, N)
  template <class T>
  void mm_nn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    for (int64_t i = 0; i < M; ++i) {
      if (mode == Mm::set || mode == Mm::set_neg)
        for (int64_t j = 0; j < N; ++j) C[i * N + j] = 0;
      row_update(C + i * N, A + i * K, 1, sign_of<T>(mode), B, N, K);
    }
  }
  // C (M, N) op= A (M, K) · B (N, K)ᵀ, as A · (Bᵀ copied once): row-times-row dot products would each end in
  // a horizontal reduction.
  template <class T>
  void mm_nt(Mm mode,
             int64_t M,
             int64_t N,
             int64_t K,
             const T* __restrict A,
             const T* __restrict B,
             T* __restrict C) {
    if (bt_.size() < static_cast<size_t>(N * K) * sizeof(T))
      bt_.resize(static_cast<size_t>(N * K) * sizeof(T));
    T* bt = reinterpret_cast<T*>(bt_.data());
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) bt[k * N + j] = B[j * K + k];
    mm_nn(mode, M, N, K, A, bt, C);
  }
  // C (M, N) op= A (K, M)ᵀ · B (K, N)
  template <class T>
  void mm_tn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    for (int64_t i = 0; i < M; ++i) {
      if (mode == Mm::set || mode == Mm::set_neg)
        for (int64_t j = 0; j < N; ++j) C[i * N + j] = 0;
      row_update(C + i * N, A + i, M, sign_of<T>(mode), B, N, K);
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

}  // namespace tttlm::kernels::cpu::ttt_detail
