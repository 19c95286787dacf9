// TTT-MLP dual form for one (b, h) (docs/spec/ttt.md §3.6-§3.8, §4, §3.12), backend-agnostic (see ttt_dual.h):
// f_res(x) = gelu(x·W1 + b1)·W2 + b2, hidden width I, one eta for all four tensors. Same structure as
// ttt_dual_linear.h: mini-batch forward/backward and per-(b, h) drivers with grouped recompute.
#pragma once

#include "kernels/ttt_dual.h"

namespace tttlm::kernels::ttt_dual {

template <class T>
struct MlpCache {
  T *z1, *x2, *hm, *g1, *zb1, *xb2;  // (m, I): K·W1 + b1, gelu of it, G2·W2ᵀ, G1, Z̄1, gelu(Z̄1)
  T *xhat, *rstd, *e, *g2;  // (m, D) normalised Z2, (m) its rstd, (m, D) LN(Z2) − target, (m, D) G2
  T *mask1, *mask2, *eta, *p1, *p2;  // (m, m) tril(Q·Kᵀ) + 1, tril(X̄2·X2ᵀ) + 1, eta, eta ⊙ masks
  T *xo, *rstdo;                     // (m, D) normalised Z̄2 (Z̄2 itself without LN), (m) its rstd
  T* stats;                          // (kRowStats, m) row statistics scratch of the row phases
};
template <class T>
TTT_HD MlpCache<T> carve_mlp_cache(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
  MlpCache<T> c;
  c.z1 = cv.take(m * I);
  c.x2 = cv.take(m * I);
  c.hm = cv.take(m * I);
  c.g1 = cv.take(m * I);
  c.zb1 = cv.take(m * I);
  c.xb2 = cv.take(m * I);
  c.xhat = cv.take(m * d);
  c.rstd = cv.take(m);
  c.e = cv.take(m * d);
  c.g2 = cv.take(m * d);
  c.mask1 = cv.take(m * m);
  c.mask2 = cv.take(m * m);
  c.eta = cv.take(m * m);
  c.p1 = cv.take(m * m);
  c.p2 = cv.take(m * m);
  c.xo = cv.take(m * d);
  c.rstdo = cv.take(m);
  c.stats = cv.take(kRowStats * m);
  return c;
}

template <class T>
struct MlpScratch {
  T *s1, *dg1, *h1, *dxb2, *dx2, *dzb1, *dh, *dz1;  // (m, I)
  T *s2, *dzb2, *dg2, *h2, *dz2, *pg, *pb;          // (m, D)
  T *dp, *da, *de;                                  // (m, m)
  T* del;                                           // (m)
};
template <class T>
TTT_HD MlpScratch<T> carve_mlp_scratch(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
  MlpScratch<T> s;
  T** wide[] = {&s.s1, &s.dg1, &s.h1, &s.dxb2, &s.dx2, &s.dzb1, &s.dh, &s.dz1};
  for (T** p : wide) *p = cv.take(m * I);
  T** narrow[] = {&s.s2, &s.dzb2, &s.dg2, &s.h2, &s.dz2, &s.pg, &s.pb};
  for (T** p : narrow) *p = cv.take(m * d);
  s.dp = cv.take(m * m);
  s.da = cv.take(m * m);
  s.de = cv.take(m * m);
  s.del = cv.take(m);
  return s;
}

// State layout [W1 (D, I), b1 (I), W2 (I, D), b2 (D)].
template <class T>
struct MlpState {
  T *w1, *b1, *w2, *b2;
};
template <class T>
TTT_HD MlpState<T> mlp_state_at(T* base, int64_t d, int64_t I) {
  return {base, base + d * I, base + d * I + I, base + 2 * d * I + I};
}

// Forward of mini-batch c from state `st`: fills `cache`, writes the output rows `out` (r, D) unless null,
// and moves the state on in place when `update` (s1: (m, I), s2: (m, D) scratch).
template <class T, class Ex>
TTT_INNER void mlp_mb_forward(Ex& ex,
                              const Head<T> hd,
                              int64_t c,
                              const MlpState<T> st,
                              const MlpCache<T> C,
                              T* s1,
                              T* s2,
                              T* out,
                              bool update) {
  const int64_t d = hd.dim, I = hd.hidden, r = hd.rows_of(c), t0 = c * hd.mini_batch;
  const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *v = hd.xv + t0 * d, *lr = hd.lr + t0;
  // Training view: Z1 = K·W1 + b1, X2 = gelu(Z1), Z2 = X2·W2 + b2, G2 = ∂ℓ/∂Z2, G1 = (G2·W2ᵀ) ⊙ gelu'(Z1)
  ex.mm_nn(Mm::set, r, I, d, k, st.w1, C.z1);
  ex.for_rows(r, I, [&](int64_t i, int64_t j) {
    C.z1[i * I + j] += st.b1[j];
    C.x2[i * I + j] = gelu(C.z1[i * I + j]);
  });
  ex.mm_nn(Mm::set, r, d, I, C.x2, st.w2, C.xhat);
  loss_grad_rows(ex, hd, r, st.b2, k, v, C.xhat, C.rstd, C.e, C.g2, C.stats);
  ex.mm_nt(Mm::set, r, I, d, C.g2, st.w2, C.hm);
  ex.for_each(r * I, [&](int64_t idx) { C.g1[idx] = C.hm[idx] * gelu_hw_grad(C.z1[idx]); });
  // Test view (§3.7 dual form): Z̄1 = Q·W1 + b1 − P1·G1, X̄2 = gelu(Z̄1), Z̄2 = X̄2·W2 + b2 − P2·G2
  ex.mm_nt(Mm::set, r, r, d, q, k, C.mask1);
  build_mask(ex, r, hd.tau, lr, C.mask1, C.eta, C.p1);
  ex.mm_nn(Mm::set, r, I, d, q, st.w1, C.zb1);
  ex.mm_nn(Mm::sub, r, I, r, C.p1, C.g1, C.zb1);
  ex.for_rows(r, I, [&](int64_t i, int64_t j) {
    C.zb1[i * I + j] += st.b1[j];
    C.xb2[i * I + j] = gelu(C.zb1[i * I + j]);
  });
  ex.mm_nt(Mm::set, r, r, I, C.xb2, C.x2, C.mask2);
  build_mask(ex, r, hd.tau, lr, C.mask2, static_cast<T*>(nullptr), C.p2);
  ex.mm_nn(Mm::set, r, d, I, C.xb2, st.w2, C.xo);
  ex.mm_nn(Mm::sub, r, d, r, C.p2, C.g2, C.xo);
  output_rows(ex, hd, r, st.b2, q, C.xo, C.rstdo, out, C.stats);
  if (update) {
    // Carry with the last row of eta (§3.7): W1 −= Kᵀ·diag(el)·G1, W2 −= X2ᵀ·diag(el)·G2, biases likewise
    const T* el = C.eta + (r - 1) * r;
    ex.for_rows(r, I, [&](int64_t i, int64_t j) { s1[i * I + j] = el[i] * C.g1[i * I + j]; });
    ex.for_rows(r, d, [&](int64_t i, int64_t j) { s2[i * d + j] = el[i] * C.g2[i * d + j]; });
    ex.mm_tn(Mm::sub, d, I, r, k, s1, st.w1);
    ex.add_col_sums(r, I, s1, st.b1, T(-1));
    ex.mm_tn(Mm::sub, I, d, r, C.x2, s2, st.w2);
    ex.add_col_sums(r, d, s2, st.b2, T(-1));
  }
}

// Backward of mini-batch c. st: its starting state; dst: on entry the gradient of the state it hands on,
// on exit that of its starting state. Overwrites its rows of dxq/dxk/dxv/dlr; accumulates dtau, dgamma,
// dbeta.
template <class T, class Ex>
TTT_INNER void mlp_mb_backward(Ex& ex,
                               const Head<T> hd,
                               int64_t c,
                               const MlpState<T> st,
                               const MlpCache<T> C,
                               const T* dout,
                               const MlpState<T> dst,
                               const HeadGrads<T> gr,
                               const MlpScratch<T> S) {
  const int64_t d = hd.dim, I = hd.hidden, r = hd.rows_of(c), t0 = c * hd.mini_batch;
  const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *lr = hd.lr + t0, *tau = hd.tau, *dO = dout + t0 * d;
  T *dq = gr.dxq + t0 * d, *dk = gr.dxk + t0 * d, *dv = gr.dxv + t0 * d, *dlr = gr.dlr + t0;
  // O = [Q +] LN(Z̄2)
  output_rows_backward(ex, hd, r, C.xo, C.rstdo, dO, dq, S.dzb2, S.pg, gr, C.stats);
  // Carry: W1' = W1 − Kᵀ·S1, W2' = W2 − X2ᵀ·S2, S = diag(el)·G, el_j = tau_{r−1}·lr_j (dst holds the dW')
  ex.mm_nn(Mm::set, r, I, d, k, dst.w1, S.h1);
  ex.mm_nn(Mm::set, r, d, I, C.x2, dst.w2, S.h2);
  ex.for_n(r, [&](int64_t j) {
    const T el = tau[r - 1] * lr[j];
    TTT_SIMD
    for (int64_t a = 0; a < I; ++a) {
      S.dg1[j * I + a] = -el * (S.h1[j * I + a] + dst.b1[a]);
      S.s1[j * I + a] = el * C.g1[j * I + a];
    }
    TTT_SIMD
    for (int64_t a = 0; a < d; ++a) {
      S.dg2[j * d + a] = -el * (S.h2[j * d + a] + dst.b2[a]);
      S.s2[j * d + a] = el * C.g2[j * d + a];
    }
    S.del[j] = -(row_sum<T>(I, [&](int64_t a) { return C.g1[j * I + a] * (S.h1[j * I + a] + dst.b1[a]); }) +
                 row_sum<T>(d, [&](int64_t a) { return C.g2[j * d + a] * (S.h2[j * d + a] + dst.b2[a]); }));
  });
  ex.mm_nt(Mm::set_neg, r, d, I, S.s1, dst.w1, dk);
  ex.mm_nt(Mm::set_neg, r, I, d, S.s2, dst.w2, S.dx2);
  // Z̄2 = X̄2·W2 + b2 − P2·G2, P2 = eta ⊙ (tril(X̄2·X2ᵀ) + 1)
  ex.mm_nt(Mm::set, r, I, d, S.dzb2, st.w2, S.dxb2);
  ex.mm_tn(Mm::add, I, d, r, C.xb2, S.dzb2, dst.w2);
  ex.add_col_sums(r, d, S.dzb2, dst.b2, T(1));
  ex.mm_nt(Mm::set_neg, r, r, d, S.dzb2, C.g2, S.dp);
  ex.mm_tn(Mm::sub, r, d, r, C.p2, S.dzb2, S.dg2);
  ex.for_rows(r, r, [&](int64_t i, int64_t j) {
    const int64_t idx = i * r + j;
    S.da[idx] = j <= i ? S.dp[idx] * C.eta[idx] : T(0);
    S.de[idx] = j <= i ? S.dp[idx] * C.mask2[idx] : T(0);
  });
  ex.mm_nn(Mm::add, r, I, r, S.da, C.x2, S.dxb2);
  ex.mm_tn(Mm::add, r, I, r, S.da, C.xb2, S.dx2);
  // X̄2 = gelu(Z̄1); Z̄1 = Q·W1 + b1 − P1·G1, P1 = eta ⊙ (tril(Q·Kᵀ) + 1)
  ex.for_each(r * I, [&](int64_t idx) { S.dzb1[idx] = S.dxb2[idx] * gelu_grad(C.zb1[idx]); });
  ex.mm_nt(Mm::add, r, d, I, S.dzb1, st.w1, dq);
  ex.mm_tn(Mm::add, d, I, r, q, S.dzb1, dst.w1);
  ex.add_col_sums(r, I, S.dzb1, dst.b1, T(1));
  ex.mm_nt(Mm::set_neg, r, r, I, S.dzb1, C.g1, S.dp);
  ex.mm_tn(Mm::sub, r, I, r, C.p1, S.dzb1, S.dg1);
  ex.for_rows(r, r, [&](int64_t i, int64_t j) {
    const int64_t idx = i * r + j;
    S.da[idx] = j <= i ? S.dp[idx] * C.eta[idx] : T(0);
    S.de[idx] += j <= i ? S.dp[idx] * C.mask1[idx] : T(0);
  });
  ex.mm_nn(Mm::add, r, d, r, S.da, k, dq);
  ex.mm_tn(Mm::add, r, d, r, S.da, q, dk);
  ex.for_n(r, [&](int64_t i) {
    T s = 0;
    for (int64_t j = 0; j <= i; ++j) s += S.de[i * r + j] * lr[j];
    if (i == r - 1)
      for (int64_t j = 0; j < r; ++j) s += S.del[j] * lr[j];
    gr.dtau[i] += s;
  });
  ex.for_n(r, [&](int64_t j) {
    T s = 0;
    for (int64_t i = j; i < r; ++i) s += S.de[i * r + j] * tau[i];
    dlr[j] = s + tau[r - 1] * S.del[j];
  });
  // G1 = H ⊙ gelu_hw'(Z1) with H = G2·W2ᵀ
  ex.for_each(r * I, [&](int64_t idx) {
    S.dh[idx] = S.dg1[idx] * gelu_hw_grad(C.z1[idx]);
    S.dz1[idx] = S.dg1[idx] * C.hm[idx] * gelu_hw_grad_grad(C.z1[idx]);
  });
  ex.mm_nn(Mm::add, r, d, I, S.dh, st.w2, S.dg2);
  ex.mm_tn(Mm::add, I, d, r, S.dh, C.g2, dst.w2);
  // G2 = LN-L2 gradient at Z2 (second derivative of LN), target V − K
  loss_grad_rows_backward(ex, hd, r, C.xhat, C.rstd, C.e, C.g2, S.dg2, S.dz2, dv, S.pg, S.pb, gr, C.stats);
  // Z2 = X2·W2 + b2, X2 = gelu(Z1), Z1 = K·W1 + b1
  ex.mm_nt(Mm::add, r, I, d, S.dz2, st.w2, S.dx2);
  ex.mm_tn(Mm::add, I, d, r, C.x2, S.dz2, dst.w2);
  ex.add_col_sums(r, d, S.dz2, dst.b2, T(1));
  ex.for_each(r * I, [&](int64_t idx) { S.dz1[idx] += S.dx2[idx] * gelu_grad(C.z1[idx]); });
  ex.mm_nt(Mm::add, r, d, I, S.dz1, st.w1, dk);
  ex.mm_tn(Mm::add, d, I, r, k, S.dz1, dst.w1);
  ex.add_col_sums(r, I, S.dz1, dst.b1, T(1));
  if (hd.residual) ex.for_rows(r, d, [&](int64_t i, int64_t j) { dk[i * d + j] -= dv[i * d + j]; });
}

TTT_HD int64_t mlp_cache_size(int64_t m, int64_t d, int64_t I) {
  Carver<char> cv;
  carve_mlp_cache(cv, m, d, I);
  return cv.used;
}
// Workspace (elements of T) of one (b, h).
TTT_HD int64_t mlp_forward_workspace(int64_t m, int64_t d, int64_t I) {
  return (2 * d * I + I + d) + mlp_cache_size(m, d, I) + m * I + m * d;
}
TTT_HD int64_t mlp_backward_workspace(int64_t m, int64_t d, int64_t I, int64_t group) {
  Carver<char> cv;
  carve_mlp_scratch(cv, m, d, I);
  return (group + 1) * (2 * d * I + I + d) + group * mlp_cache_size(m, d, I) + cv.used;
}

template <class T, class Ex>
TTT_INNER void mlp_head_forward(
    Ex& ex, const Head<T>& hd, const T* w1, const T* b1, const T* w2, const T* b2, T* out, T* ckpt, T* ws) {
  const int64_t d = hd.dim, I = hd.hidden, m = hd.mini_batch, S = 2 * d * I + I + d,
                nmb = hd.num_mini_batches();
  Carver<T> cv{ws};
  T* state = cv.take(S);
  MlpCache<T> C = carve_mlp_cache(cv, m, d, I);
  T* s1 = cv.take(m * I);
  T* s2 = cv.take(m * d);
  MlpState<T> st = mlp_state_at(state, d, I);
  copy_n(ex, d * I, w1, st.w1);
  copy_n(ex, I, b1, st.b1);
  copy_n(ex, I * d, w2, st.w2);
  copy_n(ex, d, b2, st.b2);
  for (int64_t c = 0; c < nmb; ++c) {
    if (ckpt && c % hd.checkpoint_every == 0) copy_n(ex, S, state, ckpt + (c / hd.checkpoint_every) * S);
    mlp_mb_forward(ex, hd, c, st, C, s1, s2, out + c * m * d, c + 1 < nmb);
  }
}

template <class T, class Ex>
TTT_INNER void mlp_head_backward(
    Ex& ex, const Head<T>& hd, const T* ckpt, const T* dout, const HeadGrads<T>& gr, T* ws) {
  const int64_t d = hd.dim, I = hd.hidden, m = hd.mini_batch, S = 2 * d * I + I + d,
                nmb = hd.num_mini_batches();
  const int64_t k = hd.checkpoint_every, group = k < nmb ? k : nmb, cache_size = mlp_cache_size(m, d, I);
  Carver<T> cv{ws};
  T* states = cv.take((group + 1) * S);
  T* caches = cv.take(group * cache_size);
  MlpScratch<T> scratch = carve_mlp_scratch(cv, m, d, I);
  MlpState<T> dst = mlp_state_at(gr.dstate, d, I);
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
      mlp_mb_forward(ex,
                     hd,
                     c,
                     mlp_state_at(next, d, I),
                     carve_mlp_cache(cc, m, d, I),
                     scratch.s1,
                     scratch.s2,
                     static_cast<T*>(nullptr),
                     true);
    }
    for (int64_t c = c1 - 1; c >= c0; --c) {
      Carver<T> cc{caches + (c - c0) * cache_size};
      mlp_mb_backward(ex,
                      hd,
                      c,
                      mlp_state_at(states + (c - c0) * S, d, I),
                      carve_mlp_cache(cc, m, d, I),
                      dout,
                      dst,
                      gr,
                      scratch);
    }
  }
}

}  // namespace tttlm::kernels::ttt_dual
