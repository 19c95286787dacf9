// TTT-Linear, f_res(x) = x·W + b (docs/spec/ttt.md §3.6-§3.8, §3.12), as the traits type LinearInner that the
// generic drivers (kernels/ttt_dual_head.h), kernels and op are templated on: its parameters, what a
// mini-batch's forward keeps for backward (cache) and its scratch, the dual-form forward and backward of one
// mini-batch (backend-agnostic, see ttt_dual.h), and the primal-form token step (kernels/ttt_primal.h).
#pragma once

#include "kernels/ttt_dual.h"
#include "kernels/ttt_primal.h"

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
struct LinearStep {  // the forward's scratch for moving the state on
  T* s;              // (m, D)
};
template <class T>
struct LinearScratch {  // backward's scratch; its step serves the recompute's forward
  LinearStep<T> step;
  T *dzb, *dg, *h, *dz, *pg, *pb;  // (m, D)
  T *dp, *da;                      // (m, m)
  T* del;                          // (m)
};

struct LinearInner {
  static constexpr InnerModel kModel = InnerModel::linear;
  static constexpr const char* kOp = "ttt_linear";  // the op's name, in messages and autograd
  static constexpr const char* kNode = "TttLinearBackward";
  // State [W (D, D), b (D)].
  static constexpr int kNumParams = 2;
  TTT_HD static constexpr ParamSpec param(int i) {
    return i == 0 ? ParamSpec{"w0", 3, {Axis::H, Axis::D, Axis::D}} : ParamSpec{"b0", 2, {Axis::H, Axis::D}};
  }

  template <class T>
  using Cache = LinearCache<T>;
  template <class T>
  using Step = LinearStep<T>;
  template <class T>
  using Scratch = LinearScratch<T>;
  template <class T>
  TTT_HD static Cache<T> carve_cache(Carver<T>& cv, int64_t m, int64_t d, int64_t) {
    Cache<T> c;
    c.xhat = cv.take(m * d);
    c.rstd = cv.take(m);
    cv.take_each(m * d, c.e, c.g);
    cv.take_each(m * m, c.mask, c.eta, c.p);
    c.xo = cv.take(m * d);
    c.rstdo = cv.take(m);
    c.stats = cv.take(kRowStats * m);
    return c;
  }
  template <class T>
  TTT_HD static Step<T> carve_step(Carver<T>& cv, int64_t m, int64_t d, int64_t) {
    return {cv.take(m * d)};
  }
  template <class T>
  TTT_HD static Scratch<T> carve_scratch(Carver<T>& cv, int64_t m, int64_t d, int64_t I) {
    Scratch<T> s;
    s.step = carve_step(cv, m, d, I);
    cv.take_each(m * d, s.dzb, s.dg, s.h, s.dz, s.pg, s.pb);
    cv.take_each(m * m, s.dp, s.da);
    s.del = cv.take(m);
    return s;
  }

  // Forward of mini-batch c from the state (w (D, D), b (D)): fills `C`, writes the output rows `out`
  // (r, D) unless null, and moves the state on in place when `update`.
  template <class T, class Ex>
  TTT_INNER static void forward(Ex& ex, Head<T> hd, int64_t c, T* state, Cache<T> C, Step<T> step, T* out,
                                bool update) {
    const int64_t d = hd.dim, r = hd.rows_of(c), t0 = c * hd.mini_batch;
    const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *v = hd.xv + t0 * d, *lr = hd.lr + t0;
    T *w = state, *b = state + d * d;
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
      T* s = step.s;
      ex.for_rows(r, d, [&](int64_t i, int64_t j) { s[i * d + j] = C.eta[(r - 1) * r + i] * C.g[i * d + j]; });
      ex.mm_tn(Mm::sub, d, d, r, k, s, w);
      ex.add_col_sums(r, d, s, b, T(-1));
    }
  }

  // Backward of mini-batch c from its starting state st. gr.dstate ([dW, db]): on entry the gradient of the
  // state it hands on, on exit that of its starting state. Reads its rows of gr.dout, overwrites those of
  // dxq/dxk/dxv/dlr, accumulates dtau, dgamma, dbeta.
  template <class T, class Ex>
  TTT_INNER static void backward(Ex& ex, Head<T> hd, int64_t c, const T* st, Cache<T> C, HeadGrads<T> gr,
                                 Scratch<T> S) {
    const int64_t d = hd.dim, r = hd.rows_of(c), t0 = c * hd.mini_batch;
    const T *q = hd.xq + t0 * d, *k = hd.xk + t0 * d, *lr = hd.lr + t0, *tau = hd.tau, *dO = gr.dout + t0 * d;
    T *dq = gr.dxq + t0 * d, *dk = gr.dxk + t0 * d, *dv = gr.dxv + t0 * d;
    const T* w = st;
    T *dw = gr.dstate, *db = gr.dstate + d * d, *s = S.step.s;
    // O = [Q +] LN(Z̄)
    output_rows_backward(ex, hd, r, C.xo, C.rstdo, dO, dq, S.dzb, S.pg, gr, C.stats);
    // Carry W' = W − Kᵀ·S, b' = b − Σ_j S_j with S = diag(el)·G, el_j = tau_{r−1}·lr_j (dw, db hold dW', db')
    ex.mm_nn(Mm::set, r, d, d, k, dw, S.h);
    ex.for_n(r, [&](int64_t j) {
      const T el = tau[r - 1] * lr[j];
      S.del[j] = -carry_row_backward(el, d, S.h + j * d, db, C.g + j * d, S.dg + j * d, s + j * d);
    });
    ex.mm_nt(Mm::set_neg, r, d, d, s, dw, dk);
    // Z̄ = Q·W + b − P·G
    ex.mm_nt(Mm::add, r, d, d, S.dzb, w, dq);
    ex.mm_tn(Mm::add, d, d, r, q, S.dzb, dw);
    ex.add_col_sums(r, d, S.dzb, db, T(1));
    ex.mm_nt(Mm::set_neg, r, r, d, S.dzb, C.g, S.dp);
    ex.mm_tn(Mm::sub, r, d, r, C.p, S.dzb, S.dg);
    // P = eta ⊙ mask: dmask = dP ⊙ eta flows to Q and K, deta = dP ⊙ mask (kept in dp) to tau and lr
    mask_backward(ex, r, C.eta, C.mask, S.dp, S.da, S.dp);
    ex.mm_nn(Mm::add, r, d, r, S.da, k, dq);
    ex.mm_tn(Mm::add, r, d, r, S.da, q, dk);
    eta_backward(ex, r, tau, lr, S.dp, S.del, gr.dtau, gr.dlr + t0);
    // G = LN-L2 gradient at Z (second derivative of LN), target V − K
    loss_grad_rows_backward(ex, hd, r, C.xhat, C.rstd, C.e, C.g, S.dg, S.dz, dv, S.pg, S.pb, gr, C.stats);
    // Z = K·W + b
    ex.mm_nt(Mm::add, r, d, d, S.dz, w, dk);
    ex.mm_tn(Mm::add, d, d, r, k, S.dz, dw);
    ex.add_col_sums(r, d, S.dz, db, T(1));
    residual_backward(ex, hd, r, dv, dk);
  }

  // Primal form: token tk at its mini-batch's starting state st ([W, b]) with the accumulated gradients acc
  // (same shapes); tmp: primal_scratch elements.
  static constexpr int64_t primal_scratch(int64_t d, int64_t) { return 4 * d; }
  template <class T>
  static void primal_token(const Token<T>& tk, T* const* st, T* const* acc, T* out, T* tmp) {
    const int64_t d = tk.d;
    T *w = st[0], *b = st[1], *gw = acc[0], *gb = acc[1];
    T *z = tmp, *e = tmp + d, *g = tmp + 2 * d, *zb = tmp + 3 * d;
    for (int64_t j = 0; j < d; ++j) z[j] = b[j];
    for (int64_t a = 0; a < d; ++a)
      for (int64_t j = 0; j < d; ++j) z[j] += tk.k[a] * w[a * d + j];
    inner_grad(tk, z, e, g);
    for (int64_t a = 0; a < d; ++a)
      for (int64_t j = 0; j < d; ++j) gw[a * d + j] += tk.lr * tk.k[a] * g[j];
    for (int64_t j = 0; j < d; ++j) gb[j] += tk.lr * g[j];
    for (int64_t j = 0; j < d; ++j) zb[j] = b[j] - tk.tau * gb[j];
    for (int64_t a = 0; a < d; ++a)
      for (int64_t j = 0; j < d; ++j) zb[j] += tk.q[a] * (w[a * d + j] - tk.tau * gw[a * d + j]);
    output_row(tk, zb, out);
    if (tk.last) {
      for (int64_t i = 0; i < d * d; ++i) w[i] -= tk.tau * gw[i], gw[i] = 0;
      for (int64_t j = 0; j < d; ++j) b[j] -= tk.tau * gb[j], gb[j] = 0;
    }
  }
};

}  // namespace tttlm::kernels::ttt_dual
