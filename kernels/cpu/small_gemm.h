// Small dense products on the CPU, all operands in L1/L2 (the TTT dual form's mini-batch x D x D and the
// like, kernels/cpu/ttt_common.h): register-blocked tiles of MR rows x NV vectors written with GCC vector extensions at
// the native width (AVX-512, AVX or SSE as compiled), so one code path serves every x86-64. Each output element is one
// sum over k in order, then stored by mode: results never depend on the thread count.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>

namespace tttlm::kernels::cpu::small_gemm {

// How a product is stored: C = A·B, C += A·B, C -= A·B, C = -A·B.
enum class Mm : uint8_t { set, add, sub, set_neg };

#if defined(__AVX512F__)
inline constexpr int kVecBytes = 64;
#elif defined(__AVX__)
inline constexpr int kVecBytes = 32;
#else
inline constexpr int kVecBytes = 16;
#endif

// V: the native vector of T; kLanes elements.
template <class T>
struct Simd {
  typedef T V __attribute__((vector_size(kVecBytes)));
  static constexpr int kLanes = kVecBytes / static_cast<int>(sizeof(T));
  static V load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, const V& v) { std::memcpy(p, &v, sizeof v); }
  // x in every lane: x·1 folds to a broadcast (x + 0 would not: −0 + 0 is +0).
  static V splat(T x) { return x * (V{} + T(1)); }
};

// C[MR rows, NV vectors] op= Σ_k A(i, k)·B[k, :] with A(i, k) = A[i·a_rs + k·a_ks], B rows ldb apart.
template <class T, int MR, int NV>
inline void mm_tile(Mm mode, int64_t K, const T* __restrict A, int64_t a_rs, int64_t a_ks, const T* __restrict B,
                    int64_t ldb, T* __restrict C, int64_t ldc) {
  using S = Simd<T>;
  using V = typename S::V;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t k = 0; k < K; ++k) {
    V b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = S::load(B + k * ldb + v * S::kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const V a = S::splat(A[r * a_rs + k * a_ks]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* c = C + r * ldc + v * S::kLanes;
      V out = acc[r][v];
      if (mode == Mm::add) out = S::load(c) + out;
      if (mode == Mm::sub) out = S::load(c) - out;
      if (mode == Mm::set_neg) out = -out;
      S::store(c, out);
    }
}

// Rows [0, M) of one column panel of NV vectors: tiles of MR rows, then the remaining rows one tile.
template <class T, int MR, int NV>
inline void mm_panel(Mm mode, int64_t M, int64_t K, const T* A, int64_t a_rs, int64_t a_ks, const T* B, int64_t ldb,
                     T* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + MR <= M; i += MR) mm_tile<T, MR, NV>(mode, K, A + i * a_rs, a_rs, a_ks, B, ldb, C + i * ldc, ldc);
  const T* a = A + i * a_rs;
  T* c = C + i * ldc;
  switch (M - i) {
    case 1:
      return mm_tile<T, 1, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 2:
      return mm_tile<T, 2, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 3:
      return mm_tile<T, 3, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 4:
      return mm_tile<T, 4, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 5:
      return mm_tile<T, 5, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 6:
      return mm_tile<T, 6, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    case 7:
      return mm_tile<T, 7, NV>(mode, K, a, a_rs, a_ks, B, ldb, c, ldc);
    default:
      return;
  }
}

// C (M, N) op= A·B with A(i, k) = A[i·a_rs + k·a_ks] and B (K, N) row-major: panels of two vectors and then
// one, in tiles of 8 rows (16 or 8 sums in flight, each B load feeding 8 FMAs: the fastest of the shapes
// measured at mini_batch 16, D 64 and 256), then the last N mod kLanes columns one sum at a time.
template <class T>
inline void mm_strided(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_ks, const T* B,
                       T* C) {
  constexpr int L = Simd<T>::kLanes;
  int64_t j = 0;
  for (; j + 2 * L <= N; j += 2 * L) mm_panel<T, 8, 2>(mode, M, K, A, a_rs, a_ks, B + j, N, C + j, N);
  if (j + L <= N) {
    mm_panel<T, 8, 1>(mode, M, K, A, a_rs, a_ks, B + j, N, C + j, N);
    j += L;
  }
  for (; j < N; ++j)
    for (int64_t i = 0; i < M; ++i) {
      T s = 0;
      for (int64_t k = 0; k < K; ++k) s += A[i * a_rs + k * a_ks] * B[k * N + j];
      T& c = C[i * N + j];
      c = mode == Mm::set ? s : mode == Mm::add ? c + s : mode == Mm::sub ? c - s : -s;
    }
}

// Lanes [c·2B, c·2B + B) of a, then the same lanes of b, for every chunk c of 2B lanes; with kHi the upper
// halves [c·2B + B, c·2B + 2B) instead. One stage of the butterfly transpose below.
template <int B, bool kHi>
constexpr int interleave_lane(int i, int lanes) {
  const int c = i / (2 * B), p = i % (2 * B);
  return (p < B ? 0 : lanes) + c * 2 * B + (kHi ? B : 0) + (p < B ? p : p - B);
}
template <int B, bool kHi, class V, int... I>
inline V interleave(const V& a, const V& b, std::integer_sequence<int, I...>) {
  return __builtin_shufflevector(a, b, interleave_lane<B, kHi>(I, sizeof...(I))...);
}

// r (L vectors of L lanes) <- its transpose: swap the off-diagonal B x B blocks of every 2B x 2B block, for
// B = L/2 down to 1 (L·log2 L shuffles).
template <class T, int B>
inline void transpose_lanes(typename Simd<T>::V* r) {
  constexpr int L = Simd<T>::kLanes;
  for (int i = 0; i < L; ++i)
    if (i % (2 * B) < B) {
      const auto lo = interleave<B, false>(r[i], r[i + B], std::make_integer_sequence<int, L>{});
      const auto hi = interleave<B, true>(r[i], r[i + B], std::make_integer_sequence<int, L>{});
      r[i] = lo;
      r[i + B] = hi;
    }
  if constexpr (B > 1) transpose_lanes<T, B / 2>(r);
}

// bt (K, N) = B (N, K)ᵀ: L x L blocks in registers, the edges element by element.
template <class T>
inline void transpose_into(int64_t N, int64_t K, const T* __restrict B, T* __restrict bt) {
  using S = Simd<T>;
  constexpr int L = S::kLanes;
  const int64_t n_full = N - N % L, k_full = K - K % L;
  for (int64_t j0 = 0; j0 < n_full; j0 += L)
    for (int64_t k0 = 0; k0 < k_full; k0 += L) {
      typename S::V r[L];
      for (int i = 0; i < L; ++i) r[i] = S::load(B + (j0 + i) * K + k0);
      transpose_lanes<T, L / 2>(r);
      for (int i = 0; i < L; ++i) S::store(bt + (k0 + i) * N + j0, r[i]);
    }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = k < k_full ? n_full : 0; j < N; ++j) bt[k * N + j] = B[j * K + k];
}

// C (M, N) op= A (M, K)·B (N, K)ᵀ for few rows M without transposing B: per chunk of L rows of A, at (K, L)
// = the chunk transposed (lanes past M zero); then per L rows of B, the L x L block Cᵀ[j, :] =
// Σ_k B[j, k]·at[k, :] (L sums in flight, k in order) is transposed in registers and stored by rows of C.
// The last N mod L columns one sum at a time. at: K·L elements of scratch.
template <class T>
inline void mm_nt_by_columns(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C, T* at) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int L = S::kLanes;
  for (int64_t i0 = 0; i0 < M; i0 += L) {
    const int64_t mi = M - i0 < L ? M - i0 : L;
    const T* a = A + i0 * K;
    if (mi == L)
      transpose_into(int64_t{L}, K, a, at);
    else
      for (int64_t k = 0; k < K; ++k)
        for (int64_t l = 0; l < L; ++l) at[k * L + l] = l < mi ? a[l * K + k] : T(0);
    int64_t j = 0;
    for (; j + L <= N; j += L) {
      V acc[L];
#pragma GCC unroll 16
      for (int r = 0; r < L; ++r) acc[r] = V{};
      for (int64_t k = 0; k < K; ++k) {
        const V x = S::load(at + k * L);
#pragma GCC unroll 16
        for (int r = 0; r < L; ++r) acc[r] += S::splat(B[(j + r) * K + k]) * x;
      }
      transpose_lanes<T, L / 2>(acc);
      for (int64_t i = 0; i < mi; ++i) {
        T* c = C + (i0 + i) * N + j;
        V out = acc[i];
        if (mode == Mm::add) out = S::load(c) + out;
        if (mode == Mm::sub) out = S::load(c) - out;
        if (mode == Mm::set_neg) out = -out;
        S::store(c, out);
      }
    }
    for (; j < N; ++j)
      for (int64_t i = i0; i < i0 + mi; ++i) {
        T s = 0;
        for (int64_t k = 0; k < K; ++k) s += A[i * K + k] * B[j * K + k];
        T& c = C[i * N + j];
        c = mode == Mm::set ? s : mode == Mm::add ? c + s : mode == Mm::sub ? c - s : -s;
      }
  }
}

}  // namespace tttlm::kernels::cpu::small_gemm
