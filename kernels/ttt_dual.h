// Backend-agnostic pieces of the TTT dual form: the math of one (b, h), written once against an executor and
// compiled by g++ (kernels/cpu: serial, one OpenMP thread per (b, h)) and nvcc (kernels/cuda/ttt.cu: one
// block per (b, h)). Executor: ex.for_n(n, f) / ex.for_each(n, f) call f(i) for all i < n, ex.for_rows(rows,
// cols, f) calls f(i, j) for all i < rows, j < cols (the CPU vectorises over j), and each returns when all
// are done; ex.mm_nn/mm_nt/mm_tn(mode, M, N, K, A, B, C) are dense row-major products, C never aliasing A or
// B; ex.add_col_sums(rows, cols, x, acc, sign): acc[c] += sign·Σ_i x[i, c], the sum over rows in order.
// Race-free on a block because every store goes through them and, within one call, f(i) (or f(i, j)) stores
// only to locations that belong to its index (row, column or element) and reads nothing another index stores.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/fast_math.h"
#include "kernels/ttt.h"

// TTT_INNER: the per-(b, h) math (device code under nvcc); TTT_HD: layout helpers the host also calls;
// TTT_SCALAR: the scalar functions (tanh, gelu and its derivatives) called inside `omp simd` loops, always
// inlined on the CPU, since a call left in a loop body stops g++ vectorising it (g++'s own heuristic
// declined to inline them once gelu had enough call sites; TTT-MLP's forward ran at half speed).
#if defined(__CUDACC__)
#define TTT_INNER __device__
#define TTT_HD __host__ __device__ inline
#define TTT_SCALAR __device__
#else
#define TTT_INNER inline
#define TTT_HD inline
#define TTT_SCALAR inline __attribute__((always_inline))
#endif

// TTT_SIMD: lets g++ vectorise the next loop, whose iterations are independent; nothing under nvcc.
#if defined(__CUDACC__)
#define TTT_SIMD
#else
#define TTT_SIMD _Pragma("omp simd")
#endif

namespace tttlm::kernels::ttt_dual {

// C = A·B, C += A·B, C -= A·B, C = -A·B
enum class Mm : uint8_t { set, add, sub, set_neg };

#if !defined(__CUDACC__)
using kernels::fast_tanhf;  // kernels/fast_math.h
#endif

template <class T>
TTT_SCALAR T tanh_of(T x) {
#if defined(__CUDA_ARCH__)
  return tanh(x);
#elif defined(__CUDACC__)
  return std::tanh(x);
#else
  if constexpr (std::is_same_v<T, float>)
    return fast_tanhf(x);
  else
    return std::tanh(x);
#endif
}
template <class T>
TTT_SCALAR T sqrt_of(T x) {
#if defined(__CUDA_ARCH__)
  return sqrt(x);
#else
  return std::sqrt(x);
#endif
}

// tanh-approximate GELU with sqrt(2/pi) as flax nn.gelu computes it (docs/spec/ttt.md §2.1), and its exact
// derivative (for the forward activations X2 = gelu(Z1), X̄2 = gelu(Z̄1)).
template <class T>
TTT_SCALAR T gelu(T x) {
  const T s = T(0.7978845608028654);
  return T(0.5) * x * (T(1) + tanh_of(s * (x + T(0.044715) * x * x * x)));
}
template <class T>
TTT_SCALAR T gelu_grad(T x) {
  const T s = T(0.7978845608028654);
  T t = tanh_of(s * (x + T(0.044715) * x * x * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * s * (T(1) + T(3 * 0.044715) * x * x);
}
// The hand-written derivative the inner loop uses (JAX diff_gelu, PT gelu_bwd; §2.1), with its literal
// constants, and the exact derivative of that expression (needed by the outer gradient, §3.12).
template <class T>
TTT_SCALAR T gelu_hw_grad(T x) {
  T t = tanh_of(T(0.79788456) * x * (T(1) + T(0.044715) * x * x));
  return T(0.5) * x * ((T(1) - t * t) * (T(0.79788456) + T(0.1070322243) * x * x)) + T(0.5) * (T(1) + t);
}
template <class T>
TTT_SCALAR T gelu_hw_grad_grad(T x) {
  T t = tanh_of(T(0.79788456) * x * (T(1) + T(0.044715) * x * x));
  T sech2 = T(1) - t * t;
  T dt = sech2 * T(0.79788456) * (T(1) + T(3 * 0.044715) * x * x);
  T poly = T(0.79788456) + T(0.1070322243) * x * x;
  return T(0.5) * sech2 * poly - x * t * dt * poly + x * sech2 * T(0.1070322243) * x + T(0.5) * dt;
}

constexpr double kLnEps = 1e-6;

// One row's LN for the primal form and decoding (serial sums); the dual form runs the same expressions phase
// by phase over a mini-batch's rows (loss_grad_rows, output_rows below).
// z (n) <- (z - mean)·rstd in place; returns rstd = 1/sqrt(var + 1e-6), two-pass biased variance (PT ln_fwd).
template <class T>
TTT_INNER T ln_normalize_row(T* z, int64_t n) {
  T mean = 0;
  for (int64_t c = 0; c < n; ++c) mean += z[c];
  mean /= T(n);
  T var = 0;
  for (int64_t c = 0; c < n; ++c) var += (z[c] - mean) * (z[c] - mean);
  T rstd = T(1) / sqrt_of(var / T(n) + T(kLnEps));
  for (int64_t c = 0; c < n; ++c) z[c] = (z[c] - mean) * rstd;
  return rstd;
}

// Gradient of ½‖LN(z) − target‖² w.r.t. z (docs/spec/ttt.md §3.6, PT ln_fused_l2_bwd), from xhat = normalised
// z: e = gamma·xhat + beta − target, ĝ = gamma·e, g = (ĝ − mean ĝ − xhat·mean(ĝ·xhat))·rstd. target = v − k,
// or v when k is null.
template <class T>
TTT_INNER void ln_l2_grad_row(const T* xhat, T rstd, const T* v, const T* k, const T* gamma, const T* beta, T* e, T* g,
                              int64_t n) {
  T mean_g = 0, mean_gx = 0;
  for (int64_t c = 0; c < n; ++c) {
    e[c] = gamma[c] * xhat[c] + beta[c] - (k ? v[c] - k[c] : v[c]);
    T gh = gamma[c] * e[c];
    mean_g += gh;
    mean_gx += gh * xhat[c];
  }
  mean_g /= T(n);
  mean_gx /= T(n);
  for (int64_t c = 0; c < n; ++c) g[c] = (gamma[c] * e[c] - mean_g - xhat[c] * mean_gx) * rstd;
}

// Σ_{c<n} f(c), the row statistics of the dual form. g++: 16 interleaved partial sums (the loop vectorises),
// then a pairwise tree in registers, the same order for every vector width; nvcc: one thread's serial sum.
template <class T, class F>
TTT_INNER T row_sum(int64_t n, F&& f) {
#if defined(__CUDACC__)
  T s = 0;
  for (int64_t c = 0; c < n; ++c) s += f(c);
  return s;
#else
  T p[16] = {};
  int64_t c = 0;
  for (; c + 16 <= n; c += 16)
    for (int l = 0; l < 16; ++l) p[l] += f(c + l);
  for (int l = 0; c + l < n; ++l) p[l] += f(c + l);
  typedef T V16 __attribute__((vector_size(16 * sizeof(T))));
  typedef T V8 __attribute__((vector_size(8 * sizeof(T))));
  typedef T V4 __attribute__((vector_size(4 * sizeof(T))));
  typedef T V2 __attribute__((vector_size(2 * sizeof(T))));
  V16 v;
  std::memcpy(&v, p, sizeof v);
  const V8 h8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const V4 h4 = __builtin_shufflevector(h8, h8, 0, 1, 2, 3) + __builtin_shufflevector(h8, h8, 4, 5, 6, 7);
  const V2 h2 = __builtin_shufflevector(h4, h4, 0, 1) + __builtin_shufflevector(h4, h4, 2, 3);
  return h2[0] + h2[1];
#endif
}

// Hands out consecutive slices of one buffer; with a null base it only counts (the size of a layout).
template <class T>
struct Carver {
  T* base = nullptr;
  int64_t used = 0;
  TTT_HD T* take(int64_t n) {
    T* p = base ? base + used : nullptr;
    used += n;
    return p;
  }
  // One slice of n elements for each pointer, in argument order.
  template <class... P>
  TTT_HD void take_each(int64_t n, P*&... ps) {
    ((ps = take(n)), ...);
  }
};

// The layout of an inner model's parameters: parameter i of Inner is Inner::param(i), shaped (H, axes...)
// with each axis D (head dim) or I (the hidden width, TttDims::hidden). The inner state of one (b, h) is the
// per-head slices of the parameters concatenated in order, so this fixes the snapshots' layout too.
enum class Axis : uint8_t { H, D, I };
struct ParamSpec {
  const char* name;  // the op's argument name, e.g. "w0"
  int rank;          // 2 or 3, the leading H included
  Axis axes[3];
};
TTT_HD constexpr int64_t axis_size(Axis a, int64_t heads, int64_t d, int64_t hidden) {
  return a == Axis::H ? heads : a == Axis::D ? d : hidden;
}
// Elements of one head's slice of a parameter.
TTT_HD constexpr int64_t head_numel(const ParamSpec& p, int64_t d, int64_t hidden) {
  int64_t n = 1;
  for (int i = 1; i < p.rank; ++i) n *= axis_size(p.axes[i], 0, d, hidden);
  return n;
}
// Offset of parameter i in the state, and the state's size (elements of one (b, h)).
template <class Inner>
TTT_HD constexpr int64_t state_offset(int i, int64_t d, int64_t hidden) {
  int64_t n = 0;
  for (int j = 0; j < i; ++j) n += head_numel(Inner::param(j), d, hidden);
  return n;
}
template <class Inner>
TTT_HD constexpr int64_t state_size(int64_t d, int64_t hidden) {
  return state_offset<Inner>(Inner::kNumParams, d, hidden);
}

// One pointer per inner parameter (its head's slice, or its slice of the state).
template <class T>
struct ParamPtrs {
  T* p[kMaxInnerParams];
};

// The inputs of one (b, h).
template <class T>
struct Head {
  const T *xq, *xk, *xv;  // (T, D)
  const T* lr;            // (T)
  const T* tau;           // (mini_batch)
  const T *gamma, *beta;  // (D)
  int64_t seq, dim, hidden, mini_batch, snapshot_every;
  bool layer_norm, residual;
  TTT_INNER int64_t num_mini_batches() const { return (seq + mini_batch - 1) / mini_batch; }
  TTT_INNER int64_t rows_of(int64_t c) const {
    return seq - c * mini_batch < mini_batch ? seq - c * mini_batch : mini_batch;
  }
};

// The gradients of one (b, h): dout read; rows overwritten, dtau/dgamma/dbeta accumulated (zero them first),
// dstate (the gradient of this (b, h)'s initial state) overwritten.
template <class T>
struct HeadGrads {
  const T* dout;       // (T, D) the gradient of the output
  T *dxq, *dxk, *dxv;  // (T, D)
  T* dlr;              // (T)
  T* dtau;             // (mini_batch)
  T *dgamma, *dbeta;   // (D)
  T* dstate;           // (state_size)
};

template <class T>
TTT_INNER Head<T> head_at(const TttDims& d, const TttSequence& s, int64_t bh) {
  int64_t h = bh % d.heads;
  Head<T> hd;
  hd.xq = static_cast<const T*>(s.xq) + bh * d.seq * d.dim;
  hd.xk = static_cast<const T*>(s.xk) + bh * d.seq * d.dim;
  hd.xv = static_cast<const T*>(s.xv) + bh * d.seq * d.dim;
  hd.lr = static_cast<const T*>(s.ttt_lr) + bh * d.seq;
  hd.tau = static_cast<const T*>(s.token_eta);
  hd.gamma = static_cast<const T*>(s.ln_weight) + h * d.dim;
  hd.beta = static_cast<const T*>(s.ln_bias) + h * d.dim;
  hd.seq = d.seq;
  hd.dim = d.dim;
  hd.hidden = d.hidden;
  hd.mini_batch = d.mini_batch;
  hd.snapshot_every = d.snapshot_every;
  hd.layer_norm = d.layer_norm;
  hd.residual = d.residual;
  return hd;
}

template <class T, class Ex>
TTT_INNER void copy_n(Ex& ex, int64_t n, const T* src, T* dst) {
  ex.for_rows(1, n, [&](int64_t, int64_t i) { dst[i] = src[i]; });
}
template <class T, class Ex>
TTT_INNER void fill_n(Ex& ex, int64_t n, T value, T* dst) {
  ex.for_rows(1, n, [&](int64_t, int64_t i) { dst[i] = value; });
}

// The row phases shared by TTT-Linear and TTT-MLP (docs/spec/ttt.md §3.6, PT ln_fwd / ln_fused_l2_bwd), phase
// by phase over all r rows: the row statistics of one phase are independent (the CPU overlaps their sums, a
// block runs a row per thread) and the elementwise phases run over (r, D). st: kRowStats·r scratch.
constexpr int64_t kRowStats = 6;

// loss_grad_rows: z (r, D) += bias, then G = ∂ℓ/∂z into g, with z normalised in place (xhat, rstd (r)) and
// e = gamma·xhat + beta − target, target = v − k (residual) or v; without LN, e = g = z − target.
template <class T, class Ex>
TTT_INNER void loss_grad_rows(Ex& ex, const Head<T> hd, int64_t r, const T* bias, const T* k, const T* v, T* z, T* rstd,
                              T* e, T* g, T* st) {
  const int64_t d = hd.dim;
  const T *gamma = hd.gamma, *beta = hd.beta;
  const bool residual = hd.residual;
  ex.for_rows(r, d, [&](int64_t i, int64_t j) { z[i * d + j] += bias[j]; });
  if (!hd.layer_norm) {
    ex.for_rows(r, d, [&](int64_t i, int64_t j) {
      const int64_t idx = i * d + j;
      e[idx] = z[idx] - (residual ? v[idx] - k[idx] : v[idx]);
      g[idx] = e[idx];
    });
    return;
  }
  T *mean = st, *mean_g = st + r, *mean_gx = st + 2 * r;
  ex.for_n(r, [&](int64_t i) { mean[i] = row_sum<T>(d, [&](int64_t c) { return z[i * d + c]; }) / T(d); });
  ex.for_n(r, [&](int64_t i) {
    const T* zi = z + i * d;
    const T var = row_sum<T>(d, [&](int64_t c) { return (zi[c] - mean[i]) * (zi[c] - mean[i]); }) / T(d);
    rstd[i] = T(1) / sqrt_of(var + T(kLnEps));
  });
  ex.for_rows(r, d, [&](int64_t i, int64_t j) {
    const int64_t idx = i * d + j;
    z[idx] = (z[idx] - mean[i]) * rstd[i];
    e[idx] = gamma[j] * z[idx] + beta[j] - (residual ? v[idx] - k[idx] : v[idx]);
  });
  ex.for_n(r, [&](int64_t i) {
    const T *ei = e + i * d, *xi = z + i * d;
    mean_g[i] = row_sum<T>(d, [&](int64_t c) { return gamma[c] * ei[c]; }) / T(d);
    mean_gx[i] = row_sum<T>(d, [&](int64_t c) { return gamma[c] * ei[c] * xi[c]; }) / T(d);
  });
  ex.for_rows(r, d, [&](int64_t i, int64_t j) {
    const int64_t idx = i * d + j;
    g[idx] = (gamma[j] * e[idx] - mean_g[i] - z[idx] * mean_gx[i]) * rstd[i];
  });
}

// Backward of loss_grad_rows from dg (r, D) (the second derivative of LN): dz (w.r.t. z before
// normalisation), dv = −dtarget; dgamma and dbeta accumulate into gr (pg, pb: (r, D) scratch).
template <class T, class Ex>
TTT_INNER void loss_grad_rows_backward(Ex& ex, const Head<T> hd, int64_t r, const T* xhat, const T* rstd, const T* e,
                                       const T* g, const T* dg, T* dz, T* dv, T* pg, T* pb, const HeadGrads<T> gr,
                                       T* st) {
  const int64_t d = hd.dim;
  const T* gamma = hd.gamma;
  if (!hd.layer_norm) {
    ex.for_rows(r, d, [&](int64_t i, int64_t j) {
      dz[i * d + j] = dg[i * d + j];
      dv[i * d + j] = -dg[i * d + j];
    });
    return;
  }
  T *mean_gx = st, *mean_u = st + r, *mean_ux = st + 2 * r, *dsigma = st + 3 * r, *mean_dx = st + 4 * r,
    *mean_dxx = st + 5 * r;
  ex.for_n(r, [&](int64_t i) {
    const T *xi = xhat + i * d, *ei = e + i * d, *gi = g + i * d, *dgi = dg + i * d;
    mean_gx[i] = row_sum<T>(d, [&](int64_t c) { return gamma[c] * ei[c] * xi[c]; }) / T(d);
    mean_u[i] = row_sum<T>(d, [&](int64_t c) { return dgi[c] * rstd[i]; }) / T(d);
    mean_ux[i] = row_sum<T>(d, [&](int64_t c) { return dgi[c] * rstd[i] * xi[c]; }) / T(d);
    dsigma[i] = -row_sum<T>(d, [&](int64_t c) { return dgi[c] * gi[c]; }) * rstd[i];  // g ∝ 1/sigma
  });
  // dz holds dxhat until the final projection.
  ex.for_rows(r, d, [&](int64_t i, int64_t j) {
    const int64_t idx = i * d + j;
    const T u = dg[idx] * rstd[i];
    const T gh = gamma[j] * e[idx];
    const T dgh = u - mean_u[i] - xhat[idx] * mean_ux[i];
    const T de = dgh * gamma[j];
    pg[idx] = dgh * e[idx] + de * xhat[idx];
    pb[idx] = de;
    dv[idx] = -de;
    dz[idx] = -mean_gx[i] * u - gh * mean_ux[i] + de * gamma[j];
  });
  ex.for_n(r, [&](int64_t i) {
    const T *xi = xhat + i * d, *dzi = dz + i * d;
    mean_dx[i] = row_sum<T>(d, [&](int64_t c) { return dzi[c]; }) / T(d);
    mean_dxx[i] = row_sum<T>(d, [&](int64_t c) { return dzi[c] * xi[c]; }) / T(d);
  });
  ex.for_rows(r, d, [&](int64_t i, int64_t j) {
    const int64_t idx = i * d + j;
    dz[idx] = rstd[i] * (dz[idx] - mean_dx[i] - xhat[idx] * mean_dxx[i]) + dsigma[i] * xhat[idx] / T(d);
  });
  ex.add_col_sums(r, d, pg, gr.dgamma, T(1));
  ex.add_col_sums(r, d, pb, gr.dbeta, T(1));
}

// output_rows: zb (r, D) += bias, normalised in place when LN (rstd (r)); out (r, D) = [q +] LN(zb) unless
// out is null.
template <class T, class Ex>
TTT_INNER void output_rows(Ex& ex, const Head<T> hd, int64_t r, const T* bias, const T* q, T* zb, T* rstd, T* out,
                           T* st) {
  const int64_t d = hd.dim;
  const T *gamma = hd.gamma, *beta = hd.beta;
  const bool residual = hd.residual, layer_norm = hd.layer_norm;
  ex.for_rows(r, d, [&](int64_t i, int64_t j) { zb[i * d + j] += bias[j]; });
  if (layer_norm) {
    T* mean = st;
    ex.for_n(r, [&](int64_t i) { mean[i] = row_sum<T>(d, [&](int64_t c) { return zb[i * d + c]; }) / T(d); });
    ex.for_n(r, [&](int64_t i) {
      const T* zi = zb + i * d;
      const T var = row_sum<T>(d, [&](int64_t c) { return (zi[c] - mean[i]) * (zi[c] - mean[i]); }) / T(d);
      rstd[i] = T(1) / sqrt_of(var + T(kLnEps));
    });
    ex.for_rows(r, d, [&](int64_t i, int64_t j) { zb[i * d + j] = (zb[i * d + j] - mean[i]) * rstd[i]; });
  }
  if (out)
    ex.for_rows(r, d, [&](int64_t i, int64_t j) {
      const int64_t idx = i * d + j;
      out[idx] = (residual ? q[idx] : T(0)) + (layer_norm ? gamma[j] * zb[idx] + beta[j] : zb[idx]);
    });
}

// Backward of output_rows from dout (r, D): dq = dout (residual) or 0, dzb; dgamma and dbeta accumulate into
// gr (pg: (r, D) scratch).
template <class T, class Ex>
TTT_INNER void output_rows_backward(Ex& ex, const Head<T> hd, int64_t r, const T* xo, const T* rstdo, const T* dout,
                                    T* dq, T* dzb, T* pg, const HeadGrads<T> gr, T* st) {
  const int64_t d = hd.dim;
  const T* gamma = hd.gamma;
  const bool residual = hd.residual;
  ex.for_rows(r, d, [&](int64_t i, int64_t j) { dq[i * d + j] = residual ? dout[i * d + j] : T(0); });
  if (!hd.layer_norm) {
    ex.for_rows(r, d, [&](int64_t i, int64_t j) { dzb[i * d + j] = dout[i * d + j]; });
    return;
  }
  T *mean_d = st, *mean_dx = st + r;
  ex.for_n(r, [&](int64_t i) {
    const T *xi = xo + i * d, *di = dout + i * d;
    mean_d[i] = row_sum<T>(d, [&](int64_t c) { return di[c] * gamma[c]; }) / T(d);
    mean_dx[i] = row_sum<T>(d, [&](int64_t c) { return di[c] * gamma[c] * xi[c]; }) / T(d);
  });
  ex.for_rows(r, d, [&](int64_t i, int64_t j) {
    const int64_t idx = i * d + j;
    pg[idx] = dout[idx] * xo[idx];
    dzb[idx] = rstdo[i] * (dout[idx] * gamma[j] - mean_d[i] - xo[idx] * mean_dx[i]);
  });
  ex.add_col_sums(r, d, pg, gr.dgamma, T(1));
  ex.add_col_sums(r, d, dout, gr.dbeta, T(1));
}

// Backward of P = eta ⊙ mask (build_mask) from dp (r, r), below the diagonal: da = dP ⊙ eta (the gradient of
// the mask, which flows to its product), deta = dP ⊙ mask. deta may be dp.
template <class T, class Ex>
TTT_INNER void mask_backward(Ex& ex, int64_t r, const T* eta, const T* mask, const T* dp, T* da, T* deta) {
  ex.for_rows(r, r, [&](int64_t i, int64_t j) {
    const int64_t idx = i * r + j;
    da[idx] = j <= i ? dp[idx] * eta[idx] : T(0);
    deta[idx] = j <= i ? dp[idx] * mask[idx] : T(0);
  });
}

// Backward of eta_ij = tau_i·lr_j (the dual form's below-diagonal coefficients, deta (r, r)) and of the
// carry's last row el_j = tau_{r−1}·lr_j (del (r)): dtau (mini_batch) accumulated, dlr (r) overwritten.
template <class T, class Ex>
TTT_INNER void eta_backward(Ex& ex, int64_t r, const T* tau, const T* lr, const T* deta, const T* del, T* dtau,
                            T* dlr) {
  ex.for_n(r, [&](int64_t i) {
    T s = 0;
    for (int64_t j = 0; j <= i; ++j) s += deta[i * r + j] * lr[j];
    if (i == r - 1)
      for (int64_t j = 0; j < r; ++j) s += del[j] * lr[j];
    dtau[i] += s;
  });
  ex.for_n(r, [&](int64_t j) {
    T s = 0;
    for (int64_t i = j; i < r; ++i) s += deta[i * r + j] * tau[i];
    dlr[j] = s + tau[r - 1] * del[j];
  });
}

// Row j of the carry's backward for one layer of width n (the state update W' = W − Xᵀ·S, b' = b − Σ_j S_j
// with S = diag(el)·G): from h = X·dW' (the row's), db': dg = −el·(h + db') (the row of dG), s = el·g (the
// row of S); returns Σ_a g_a·(h_a + db'_a), this layer's share of −del_j.
template <class T>
TTT_INNER T carry_row_backward(T el, int64_t n, const T* h, const T* db, const T* g, T* dg, T* s) {
  TTT_SIMD
  for (int64_t a = 0; a < n; ++a) {
    dg[a] = -el * (h[a] + db[a]);
    s[a] = el * g[a];
  }
  return row_sum<T>(n, [&](int64_t a) { return g[a] * (h[a] + db[a]); });
}

// The target V − K of the residual form: dk (r, D) −= dv.
template <class T, class Ex>
TTT_INNER void residual_backward(Ex& ex, const Head<T> hd, int64_t r, const T* dv, T* dk) {
  const int64_t d = hd.dim;
  if (hd.residual) ex.for_rows(r, d, [&](int64_t i, int64_t j) { dk[i * d + j] -= dv[i * d + j]; });
}

// The r×r matrices of a mini-batch from a = Q·Kᵀ (or X̄2·X2ᵀ) in `mask`: mask <- tril(a) + 1 on and below the
// diagonal, 0 above; eta_ij = tau_i·lr_j below; p = eta ⊙ mask (the dual form's coefficient of G).
template <class T, class Ex>
TTT_INNER void build_mask(Ex& ex, int64_t r, const T* tau, const T* lr, T* mask, T* eta, T* p) {
  ex.for_rows(r, r, [&](int64_t i, int64_t j) {
    const int64_t idx = i * r + j;
    if (j <= i) {
      mask[idx] += T(1);
      if (eta) eta[idx] = tau[i] * lr[j];
      p[idx] = tau[i] * lr[j] * mask[idx];
    } else {
      mask[idx] = 0;
      if (eta) eta[idx] = 0;
      p[idx] = 0;
    }
  });
}

}  // namespace tttlm::kernels::ttt_dual
