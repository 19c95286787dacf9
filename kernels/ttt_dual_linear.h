// TTT-Linear dual form for one (b, h) (docs/spec/ttt.md §3.6-§3.8, §3.12), backend-agnostic (see ttt_dual.h):
// a mini-batch's forward from its starting state, its backward, and the per-(b, h) drivers that keep a
// state every checkpoint_every mini-batches and, in backward, recompute one group at a time from it.
#pragma once

#include "kernels/ttt_dual.h"

namespace tttlm::kernels::ttt_dual {

// What backward needs from a mini-batch's forward (rows r <= m = mini_batch).
template <class T>
struct LinearCache {
  T *xhat, *rstd, *e, *g;  // (m, D) normalised Z = K·W + b, (m) its rstd, (m, D) LN(Z) − target, (m, D) G
  T *mask, *eta, *p;       // (m, m) tril(Q·Kᵀ) + 1, eta, eta ⊙ mask
  T *xo, *rstdo;           // (m, D) normalised Z̄ (Z̄ itself without LN), (m) its rstd
  T* stats;                // (kRowStats, m) row statistics scratch of the row phases
};
template <class T>
TTT_HD LinearCache<T> carve_linear_cache(Carver<T>& cv, int64_t m, int64_t d) {
  LinearCache<T> c;
  c.xhat = cv.take(m * d);
  c.rstd = cv.take(m);
  c.e = cv.take(m * d);
  c.g = cv.take(m * d);
  c.mask = cv.take(m * m);
  c.eta = cv.take(m * m);
  c.p = cv.take(m * m);
  c.xo = cv.take(m * d);
  c.rstdo = cv.take(m);
  c.stats = cv.take(kRowStats * m);
  return c;
}

template <class T>
struct LinearScratch {
  T *s, *dzb, *dg, *h, *dz, *pg, *pb;  // (m, D)
  T *dp, *da;                          // (m, m)
  T* del;                              // (m)
};
template <class T>
TTT_HD LinearScratch<T> carve_linear_scratch(Carver<T>& cv, int64_t m, int64_t d) {
  LinearScratch<T> s;
  s.s = cv.take(m * d);
  s.dzb = cv.take(m * d);
  s.dg = cv.take(m * d);
  s.h = cv.take(m * d);
  s.dz = cv.take(m * d);
  s.pg = cv.take(m * d);
  s.pb = cv.take(m * d);
  s.dp = cv.take(m * m);
  s.da = cv.take(m * m);
  s.del = cv.take(m);
  return s;
}

// Forward of mini-batch c from the state (w (D, D), b (D)): fills `cache`, writes the output rows `out`
// (r, D) unless null, and moves the state on in place when `update`.
template <class T, class Ex>
TTT_INNER void linear_mb_forward(
    Ex& ex, const Head<T> hd, int64_t c, T* w, T* b, const LinearCache<T> C, T* s, T* out, bool update) {
  const int64_t d = hd.dim, r = hd.rows_of(c), t0 = c * hd.mini_batch;
  const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *v = hd.xv + t0 * d, *lr = hd.lr + t0;
  // Z = K·W + b and G = ∂ℓ/∂Z at the starting state (§3.6)
  ex.mm_nn(Mm::set, r, d, d, k, w, C.xhat);
  loss_grad_rows(ex, hd, r, b, k, v, C.xhat, C.rstd, C.e, C.g, C.stats);
  // Z̄ = Q·W + b − (eta ⊙ (tril(Q·Kᵀ) + 1))·G  (§3.7 dual form)
  ex.mm_nt(Mm::set, r, r, d, q, k, C.mask);
  build_mask(ex, r, hd.tau, lr, C.mask, C.eta, C.p);
  ex.mm_nn(Mm::set, r, d, d, q, w, C.xo);
  ex.mm_nn(Mm::sub, r, d, r, C.p, C.g, C.xo);
  output_rows(ex, hd, r, b, q, C.xo, C.rstdo, out, C.stats);
  if (update) {
    // W' = W − Kᵀ·diag(eta_{r−1,:})·G, b' = b − Σ_j eta_{r−1,j}·g_j: the carry is the last row (§3.8)
    ex.for_rows(r, d, [&](int64_t i, int64_t j) { s[i * d + j] = C.eta[(r - 1) * r + i] * C.g[i * d + j]; });
    ex.mm_tn(Mm::sub, d, d, r, k, s, w);
    ex.add_col_sums(r, d, s, b, T(-1));
  }
}

// Backward of mini-batch c. w: its starting W; dw (D, D), db (D): on entry the gradient of the state it
// hands on, on exit that of its starting state. Overwrites the mini-batch's rows of dxq/dxk/dxv/dlr,
// accumulates dtau, dgamma, dbeta.
template <class T, class Ex>
TTT_INNER void linear_mb_backward(Ex& ex,
                                  const Head<T> hd,
                                  int64_t c,
                                  const T* w,
                                  const LinearCache<T> C,
                                  const T* dout,
                                  T* dw,
                                  T* db,
                                  const HeadGrads<T> gr,
                                  const LinearScratch<T> S) {
  const int64_t d = hd.dim, r = hd.rows_of(c), t0 = c * hd.mini_batch;
  const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *lr = hd.lr + t0, *tau = hd.tau, *dO = dout + t0 * d;
  T *dq = gr.dxq + t0 * d, *dk = gr.dxk + t0 * d, *dv = gr.dxv + t0 * d, *dlr = gr.dlr + t0;
  // O = [Q +] LN(Z̄)
  output_rows_backward(ex, hd, r, C.xo, C.rstdo, dO, dq, S.dzb, S.pg, gr, C.stats);
  // Carry W' = W − Kᵀ·S, b' = b − Σ_j S_j with S = diag(el)·G, el_j = tau_{r−1}·lr_j (dw, db hold dW', db')
  ex.mm_nn(Mm::set, r, d, d, k, dw, S.h);
  ex.for_n(r, [&](int64_t j) {
    const T el = tau[r - 1] * lr[j];
    TTT_SIMD
    for (int64_t a = 0; a < d; ++a) {
      S.dg[j * d + a] = -el * (S.h[j * d + a] + db[a]);
      S.s[j * d + a] = el * C.g[j * d + a];
    }
    S.del[j] = -row_sum<T>(d, [&](int64_t a) { return C.g[j * d + a] * (S.h[j * d + a] + db[a]); });
  });
  ex.mm_nt(Mm::set_neg, r, d, d, S.s, dw, dk);
  // Z̄ = Q·W + b − P·G
  ex.mm_nt(Mm::add, r, d, d, S.dzb, w, dq);
  ex.mm_tn(Mm::add, d, d, r, q, S.dzb, dw);
  ex.add_col_sums(r, d, S.dzb, db, T(1));
  ex.mm_nt(Mm::set_neg, r, r, d, S.dzb, C.g, S.dp);
  ex.mm_tn(Mm::sub, r, d, r, C.p, S.dzb, S.dg);
  // P = eta ⊙ mask: dmask = dP ⊙ eta flows to Q and K, deta = dP ⊙ mask (kept in dp) to tau and lr
  ex.for_rows(r, r, [&](int64_t i, int64_t j) {
    const int64_t idx = i * r + j;
    S.da[idx] = j <= i ? S.dp[idx] * C.eta[idx] : T(0);
    S.dp[idx] = j <= i ? S.dp[idx] * C.mask[idx] : T(0);
  });
  ex.mm_nn(Mm::add, r, d, r, S.da, k, dq);
  ex.mm_tn(Mm::add, r, d, r, S.da, q, dk);
  ex.for_n(r, [&](int64_t i) {
    T s = 0;
    for (int64_t j = 0; j <= i; ++j) s += S.dp[i * r + j] * lr[j];
    if (i == r - 1)
      for (int64_t j = 0; j < r; ++j) s += S.del[j] * lr[j];
    gr.dtau[i] += s;
  });
  ex.for_n(r, [&](int64_t j) {
    T s = 0;
    for (int64_t i = j; i < r; ++i) s += S.dp[i * r + j] * tau[i];
    dlr[j] = s + tau[r - 1] * S.del[j];
  });
  // G = LN-L2 gradient at Z (second derivative of LN), target V − K
  loss_grad_rows_backward(ex, hd, r, C.xhat, C.rstd, C.e, C.g, S.dg, S.dz, dv, S.pg, S.pb, gr, C.stats);
  // Z = K·W + b
  ex.mm_nt(Mm::add, r, d, d, S.dz, w, dk);
  ex.mm_tn(Mm::add, d, d, r, k, S.dz, dw);
  ex.add_col_sums(r, d, S.dz, db, T(1));
  if (hd.residual) ex.for_rows(r, d, [&](int64_t i, int64_t j) { dk[i * d + j] -= dv[i * d + j]; });
}

// Workspace (elements of T) of one (b, h).
TTT_HD int64_t linear_forward_workspace(int64_t m, int64_t d) {
  Carver<char> cv;
  cv.take(d * d + d);
  carve_linear_cache(cv, m, d);
  cv.take(m * d);
  return cv.used;
}
TTT_HD int64_t linear_backward_workspace(int64_t m, int64_t d, int64_t group) {
  Carver<char> cv;
  int64_t cache = linear_forward_workspace(m, d) - (d * d + d) - m * d;
  cv.take((group + 1) * (d * d + d) + group * cache);
  carve_linear_scratch(cv, m, d);
  return cv.used;
}

// Forward of one (b, h): out (T, D); the state at every checkpoint_every-th mini-batch start into ckpt
// (num_checkpoints, D·D + D) unless null.
template <class T, class Ex>
TTT_INNER void linear_head_forward(
    Ex& ex, const Head<T>& hd, const T* w0, const T* b0, T* out, T* ckpt, T* ws) {
  const int64_t d = hd.dim, m = hd.mini_batch, S = d * d + d, nmb = hd.num_mini_batches();
  Carver<T> cv{ws};
  T* state = cv.take(S);
  LinearCache<T> C = carve_linear_cache(cv, m, d);
  T* s = cv.take(m * d);
  copy_n(ex, d * d, w0, state);
  copy_n(ex, d, b0, state + d * d);
  for (int64_t c = 0; c < nmb; ++c) {
    if (ckpt && c % hd.checkpoint_every == 0) copy_n(ex, S, state, ckpt + (c / hd.checkpoint_every) * S);
    linear_mb_forward(ex, hd, c, state, state + d * d, C, s, out + c * m * d, c + 1 < nmb);
  }
}

// Backward of one (b, h) from dout (T, D) and the checkpoints; overwrites every field of gr
// (gr.dstate = [dW0, db0] of this (b, h)).
template <class T, class Ex>
TTT_INNER void linear_head_backward(
    Ex& ex, const Head<T>& hd, const T* ckpt, const T* dout, const HeadGrads<T>& gr, T* ws) {
  const int64_t d = hd.dim, m = hd.mini_batch, S = d * d + d, nmb = hd.num_mini_batches();
  const int64_t k = hd.checkpoint_every, group = k < nmb ? k : nmb;
  const int64_t cache_size = linear_forward_workspace(m, d) - S - m * d;
  Carver<T> cv{ws};
  T* states = cv.take((group + 1) * S);
  T* caches = cv.take(group * cache_size);
  LinearScratch<T> scratch = carve_linear_scratch(cv, m, d);
  fill_n(ex, S, T(0), gr.dstate);
  fill_n(ex, m, T(0), gr.dtau);
  fill_n(ex, d, T(0), gr.dgamma);
  fill_n(ex, d, T(0), gr.dbeta);
  for (int64_t g = (nmb + k - 1) / k - 1; g >= 0; --g) {
    const int64_t c0 = g * k, c1 = c0 + k < nmb ? c0 + k : nmb;
    copy_n(ex, S, ckpt + g * S, states);
    for (int64_t c = c0; c < c1; ++c) {
      T* next = states + (c - c0 + 1) * S;
      Carver<T> cc{caches + (c - c0) * cache_size};
      copy_n(ex, S, next - S, next);
      linear_mb_forward(ex,
                        hd,
                        c,
                        next,
                        next + d * d,
                        carve_linear_cache(cc, m, d),
                        scratch.s,
                        static_cast<T*>(nullptr),
                        true);
    }
    for (int64_t c = c1 - 1; c >= c0; --c) {
      Carver<T> cc{caches + (c - c0) * cache_size};
      linear_mb_backward(ex,
                         hd,
                         c,
                         states + (c - c0) * S,
                         carve_linear_cache(cc, m, d),
                         dout,
                         gr.dstate,
                         gr.dstate + d * d,
                         gr,
                         scratch);
    }
  }
}

}  // namespace tttlm::kernels::ttt_dual
