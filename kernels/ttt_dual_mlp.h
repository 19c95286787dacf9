// TTT-MLP, f_res(x) = gelu(x·W1 + b1)·W2 + b2 with hidden width I and one eta for all four tensors
// (docs/spec/ttt.md §3.6-§3.8, §4, §3.12), as the traits type MlpInner (see LinearInner in
// ttt_dual_linear.h for the contract): its parameters, cache and scratch, the dual-form forward and
// backward of one mini-batch (backend-agnostic, see ttt_dual.h), and the primal-form token step.
#pragma once

#include "kernels/ttt_dual.h"
#include "kernels/ttt_primal.h"

// g++: mlp_mb_backward below is compiled on its own (as it was before the fold), so that where it is called
// does not change how g++ contracts its products into FMAs, i.e. its rounding.
#if defined(__CUDACC__)
#define TTT_NOINLINE
#else
#define TTT_NOINLINE __attribute__((noinline))
#endif

namespace tttlm::kernels::ttt_dual {

template <class T>
struct MlpCache {
  T *z1, *x2, *hm, *g1, *zb1, *xb2;  // (m, I): K·W1 + b1, gelu of it, G2·W2ᵀ, G1, Z̄1, gelu(Z̄1)
  T *xhat, *rstd, *e, *g2;           // (m, D) normalised Z2, (m) its rstd, (m, D) LN(Z2) − target, (m, D) G2
  T *mask1, *mask2, *eta, *p1, *p2;  // (m, m) tril(Q·Kᵀ) + 1, tril(X̄2·X2ᵀ) + 1, eta, eta ⊙ masks
  T *xo, *rstdo;                     // (m, D) normalised Z̄2 (Z̄2 itself without LN), (m) its rstd
  T* stats;                          // (kRowStats, m) row statistics scratch of the row phases
};
template <class T>
struct MlpStep {  // the forward's scratch for moving the state on
  T *s1, *s2;     // (m, I), (m, D)
};
template <class T>
struct MlpScratch {                            // backward's scratch; its step serves the recompute's forward
  T *dg1, *h1, *dxb2, *dx2, *dzb1, *dh, *dz1;  // (m, I)
  T *dzb2, *dg2, *h2, *dz2, *pg, *pb;          // (m, D)
  T *dp, *da, *de;                             // (m, m)
  T* del;                                      // (m)
  MlpStep<T> step;
};

// State [W1 (D, I), b1 (I), W2 (I, D), b2 (D)].
template <class T>
struct MlpState {
  T *w1, *b1, *w2, *b2;
};
template <class T>
TTT_HD MlpState<T> mlp_state_at(T* base, int64_t d, int64_t I) {
  return {base, base + d * I, base + d * I + I, base + 2 * d * I + I};
}

// Backward of mini-batch c (MlpInner::backward). st: its starting state; dst: on entry the gradient of the
// state it hands on, on exit that of its starting state. Overwrites its rows of dxq/dxk/dxv/dlr; accumulates
// dtau, dgamma, dbeta. Kept as it was written before the inner models were folded, without the shared
// helpers of ttt_dual.h (mask_backward, eta_backward, carry_row_backward) and not inlined: otherwise g++
// contracts and rounds the MLP's dtau and dlr differently (by an ulp), and the results must stay the bits
// they were (tests/golden, snapshots).
template <class T, class Ex>
TTT_INNER TTT_NOINLINE void mlp_mb_backward(Ex& ex, const Head<T> hd, int64_t c, const MlpState<T> st,
                                            const MlpCache<T> C, const T* dout, const MlpState<T> dst,
                                            const HeadGrads<T> gr, const MlpScratch<T> S) {
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
      S.step.s1[j * I + a] = el * C.g1[j * I + a];
    }
    TTT_SIMD
    for (int64_t a = 0; a < d; ++a) {
      S.dg2[j * d + a] = -el * (S.h2[j * d + a] + dst.b2[a]);
      S.step.s2[j * d + a] = el * C.g2[j * d + a];
    }
    S.del[j] = -(row_sum<T>(I, [&](int64_t a) { return C.g1[j * I + a] * (S.h1[j * I + a] + dst.b1[a]); }) +
                 row_sum<T>(d, [&](int64_t a) { return C.g2[j * d + a] * (S.h2[j * d + a] + dst.b2[a]); }));
  });
  ex.mm_nt(Mm::set_neg, r, d, I, S.step.s1, dst.w1, dk);
  ex.mm_nt(Mm::set_neg, r, I, d, S.step.s2, dst.w2, S.dx2);
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

struct MlpInner {
  static constexpr InnerModel kModel = InnerModel::mlp;
  static constexpr const char* kOp = "ttt_mlp";
  static constexpr const char* kNode = "TttMlpBackward";
  static constexpr int kNumParams = 4;
  TTT_HD static constexpr ParamSpec param(int i) {
    return i == 0   ? ParamSpec{"w1", 3, {Axis::H, Axis::D, Axis::I}}
           : i == 1 ? ParamSpec{"b1", 2, {Axis::H, Axis::I}}
           : i == 2 ? ParamSpec{"w2", 3, {Axis::H, Axis::I, Axis::D}}
                    : ParamSpec{"b2", 2, {Axis::H, Axis::D}};
  }

  template <class T>
  using Cache = MlpCache<T>;
  template <class T>
  using Step = MlpStep<T>;
  template <class T>
  using Scratch = MlpScratch<T>;
  template <class T>
  TTT_HD static Cache<T> carve_cache(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
    Cache<T> c;
    cv.take_each(m * I, c.z1, c.x2, c.hm, c.g1, c.zb1, c.xb2);
    c.xhat = cv.take(m * d);
    c.rstd = cv.take(m);
    cv.take_each(m * d, c.e, c.g2);
    cv.take_each(m * m, c.mask1, c.mask2, c.eta, c.p1, c.p2);
    c.xo = cv.take(m * d);
    c.rstdo = cv.take(m);
    c.stats = cv.take(kRowStats * m);
    return c;
  }
  template <class T>
  TTT_HD static Step<T> carve_step(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
    Step<T> s;
    s.s1 = cv.take(m * I);
    s.s2 = cv.take(m * d);
    return s;
  }
  template <class T>
  TTT_HD static Scratch<T> carve_scratch(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
    Scratch<T> s;
    s.step.s1 = cv.take(m * I);
    cv.take_each(m * I, s.dg1, s.h1, s.dxb2, s.dx2, s.dzb1, s.dh, s.dz1);
    s.step.s2 = cv.take(m * d);
    cv.take_each(m * d, s.dzb2, s.dg2, s.h2, s.dz2, s.pg, s.pb);
    cv.take_each(m * m, s.dp, s.da, s.de);
    s.del = cv.take(m);
    return s;
  }

  // Forward of mini-batch c from `state`: fills `C`, writes the output rows `out` (r, D) unless null, and
  // moves the state on in place when `update`.
  template <class T, class Ex>
  TTT_INNER static void forward(Ex& ex, Head<T> hd, int64_t c, T* state, Cache<T> C, Step<T> step, T* out,
                                bool update) {
    const int64_t d = hd.dim, I = hd.hidden, r = hd.rows_of(c), t0 = c * hd.mini_batch;
    const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *v = hd.xv + t0 * d, *lr = hd.lr + t0;
    const MlpState<T> st = mlp_state_at(state, d, I);
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
      T *s1 = step.s1, *s2 = step.s2;
      ex.for_rows(r, I, [&](int64_t i, int64_t j) { s1[i * I + j] = el[i] * C.g1[i * I + j]; });
      ex.for_rows(r, d, [&](int64_t i, int64_t j) { s2[i * d + j] = el[i] * C.g2[i * d + j]; });
      ex.mm_tn(Mm::sub, d, I, r, k, s1, st.w1);
      ex.add_col_sums(r, I, s1, st.b1, T(-1));
      ex.mm_tn(Mm::sub, I, d, r, C.x2, s2, st.w2);
      ex.add_col_sums(r, d, s2, st.b2, T(-1));
    }
  }

  // Backward of mini-batch c (the contract of LinearInner::backward): mlp_mb_backward above.
  template <class T, class Ex>
  TTT_INNER static void backward(Ex& ex, Head<T> hd, int64_t c, const T* state, Cache<T> C, HeadGrads<T> gr,
                                 Scratch<T> S) {
    const int64_t d = hd.dim, I = hd.hidden;
    const MlpState<T> st = mlp_state_at(const_cast<T*>(state), d, I);  // read only
    mlp_mb_backward(ex, hd, c, st, C, gr.dout, mlp_state_at(gr.dstate, d, I), gr, S);
  }

  // Primal form (the contract of LinearInner::primal_token); st, acc: [W1, b1, W2, b2].
  static constexpr int64_t primal_scratch(int64_t d, int64_t I) { return 5 * I + 4 * d; }
  template <class T>
  static void primal_token(const Token<T>& tk, T* const* st, T* const* acc, T* out, T* tmp) {
    const int64_t d = tk.d, I = tk.hidden;
    T *w1 = st[0], *b1 = st[1], *w2 = st[2], *b2 = st[3], *gw1 = acc[0], *gb1 = acc[1], *gw2 = acc[2], *gb2 = acc[3];
    T *z1 = tmp, *x2 = tmp + I, *g1 = tmp + 2 * I, *zb1 = tmp + 3 * I, *xb2 = tmp + 4 * I;
    T *z2 = tmp + 5 * I, *e = z2 + d, *g2 = z2 + 2 * d, *zb2 = z2 + 3 * d;
    for (int64_t a = 0; a < I; ++a) z1[a] = b1[a];
    for (int64_t c = 0; c < d; ++c)
      for (int64_t a = 0; a < I; ++a) z1[a] += tk.k[c] * w1[c * I + a];
    for (int64_t a = 0; a < I; ++a) x2[a] = gelu(z1[a]);
    for (int64_t j = 0; j < d; ++j) z2[j] = b2[j];
    for (int64_t a = 0; a < I; ++a)
      for (int64_t j = 0; j < d; ++j) z2[j] += x2[a] * w2[a * d + j];
    inner_grad(tk, z2, e, g2);
    for (int64_t a = 0; a < I; ++a) {
      T s = 0;
      for (int64_t j = 0; j < d; ++j) s += g2[j] * w2[a * d + j];
      g1[a] = s * gelu_hw_grad(z1[a]);
    }
    for (int64_t c = 0; c < d; ++c)
      for (int64_t a = 0; a < I; ++a) gw1[c * I + a] += tk.lr * tk.k[c] * g1[a];
    for (int64_t a = 0; a < I; ++a) gb1[a] += tk.lr * g1[a];
    for (int64_t a = 0; a < I; ++a)
      for (int64_t j = 0; j < d; ++j) gw2[a * d + j] += tk.lr * x2[a] * g2[j];
    for (int64_t j = 0; j < d; ++j) gb2[j] += tk.lr * g2[j];
    for (int64_t a = 0; a < I; ++a) zb1[a] = b1[a] - tk.tau * gb1[a];
    for (int64_t c = 0; c < d; ++c)
      for (int64_t a = 0; a < I; ++a) zb1[a] += tk.q[c] * (w1[c * I + a] - tk.tau * gw1[c * I + a]);
    for (int64_t a = 0; a < I; ++a) xb2[a] = gelu(zb1[a]);
    for (int64_t j = 0; j < d; ++j) zb2[j] = b2[j] - tk.tau * gb2[j];
    for (int64_t a = 0; a < I; ++a)
      for (int64_t j = 0; j < d; ++j) zb2[j] += xb2[a] * (w2[a * d + j] - tk.tau * gw2[a * d + j]);
    output_row(tk, zb2, out);
    if (tk.last) {
      for (int64_t i = 0; i < d * I; ++i) w1[i] -= tk.tau * gw1[i], gw1[i] = 0, w2[i] -= tk.tau * gw2[i], gw2[i] = 0;
      for (int64_t a = 0; a < I; ++a) b1[a] -= tk.tau * gb1[a], gb1[a] = 0;
      for (int64_t j = 0; j < d; ++j) b2[j] -= tk.tau * gb2[j], gb2[j] = 0;
    }
  }
};

}  // namespace tttlm::kernels::ttt_dual
