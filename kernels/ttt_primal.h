// The primal form's per-token pieces (docs/spec/ttt.md §3.7 "Primal", §3.11), shared by every inner model's
// primal_token step (kernels/ttt_dual_<model>.h) and run by kernels/cpu/ttt_primal.cpp for the primal
// forward (the reference of the dual form) and for decoding: the token's inputs, its loss gradient at the
// inner model's output and its output row. Plain serial loops, CPU only.
#pragma once

#include <cstdint>

#include "kernels/ttt.h"
#include "kernels/ttt_dual.h"

namespace tttlm::kernels::ttt_dual {

template <class T>
struct Token {
  const T *q, *k, *v;     // (D)
  T tau, lr;              // token_eta[t mod mini_batch], ttt_lr[t]
  const T *gamma, *beta;  // (D)
  int64_t d, hidden;
  bool layer_norm, residual, last;  // last: the token closes its mini-batch
};

// g (D) = ∂ℓ/∂z at z (D), z overwritten (normalised when LN is on).
template <class T>
void inner_grad(const Token<T>& tk, T* z, T* e, T* g) {
  if (tk.layer_norm) {
    T rstd = ln_normalize_row(z, tk.d);
    ln_l2_grad_row(z, rstd, tk.v, tk.residual ? tk.k : nullptr, tk.gamma, tk.beta, e, g, tk.d);
  } else {
    for (int64_t j = 0; j < tk.d; ++j) g[j] = z[j] - (tk.residual ? tk.v[j] - tk.k[j] : tk.v[j]);
  }
}

// out (D) = [q +] LN(zb), zb overwritten.
template <class T>
void output_row(const Token<T>& tk, T* zb, T* out) {
  if (tk.layer_norm) ln_normalize_row(zb, tk.d);
  for (int64_t j = 0; j < tk.d; ++j)
    out[j] = (tk.residual ? tk.q[j] : T(0)) + (tk.layer_norm ? tk.gamma[j] * zb[j] + tk.beta[j] : zb[j]);
}

// Token t of (b, h) = bh of a (B, H, T, D) sequence.
template <class T>
Token<T> token_at(const TttDims& dims, const TttSequence& s, int64_t bh, int64_t t, int64_t offset) {
  const int64_t d = dims.dim, row = (bh * dims.seq + t) * d;
  Token<T> tk;
  tk.q = static_cast<const T*>(s.xq) + row;
  tk.k = static_cast<const T*>(s.xk) + row;
  tk.v = static_cast<const T*>(s.xv) + row;
  tk.tau = static_cast<const T*>(s.token_eta)[offset];
  tk.lr = static_cast<const T*>(s.ttt_lr)[bh * dims.seq + t];
  tk.gamma = static_cast<const T*>(s.ln_weight) + (bh % dims.heads) * d;
  tk.beta = static_cast<const T*>(s.ln_bias) + (bh % dims.heads) * d;
  tk.d = d;
  tk.hidden = dims.hidden;
  tk.layer_norm = dims.layer_norm;
  tk.residual = dims.residual;
  tk.last = offset == dims.mini_batch - 1;
  return tk;
}

}  // namespace tttlm::kernels::ttt_dual
