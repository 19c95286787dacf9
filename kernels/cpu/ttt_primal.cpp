// TTT primal form and decoding on the CPU (docs/spec/ttt.md §3.7 "Primal", §3.11): token by token, each token's
// gradient taken at the state of its mini-batch start, accumulated with its ttt_lr, and the token's own
// state W_s − tau_s·Σ applied to its query. The primal forward is this step run over the sequence; it is
// the reference the dual form is tested against. Plain loops, one (b, h) per OpenMP iteration.
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ttt.h"
#include "kernels/ttt_dual.h"

namespace tttlm::kernels::cpu {

namespace {

using ttt_dual::gelu;
using ttt_dual::gelu_hw_grad;
using ttt_dual::ln_l2_grad_row;
using ttt_dual::ln_normalize_row;

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

template <class T>
void output_row(const Token<T>& tk, T* zb, T* out) {
  if (tk.layer_norm) ln_normalize_row(zb, tk.d);
  for (int64_t j = 0; j < tk.d; ++j)
    out[j] = (tk.residual ? tk.q[j] : T(0)) + (tk.layer_norm ? tk.gamma[j] * zb[j] + tk.beta[j] : zb[j]);
}

// state: W (D, D), b (D) at the mini-batch start; acc: the same shapes. tmp: 4D.
template <class T>
void linear_token(const Token<T>& tk, T* w, T* b, T* gw, T* gb, T* out, T* tmp) {
  const int64_t d = tk.d;
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

// state: W1 (D, I), b1 (I), W2 (I, D), b2 (D); acc: the same. tmp: 5I + 4D.
template <class T>
void mlp_token(
    const Token<T>& tk, T* w1, T* b1, T* w2, T* b2, T* gw1, T* gb1, T* gw2, T* gb2, T* out, T* tmp) {
  const int64_t d = tk.d, I = tk.hidden;
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
    for (int64_t i = 0; i < d * I; ++i)
      w1[i] -= tk.tau * gw1[i], gw1[i] = 0, w2[i] -= tk.tau * gw2[i], gw2[i] = 0;
    for (int64_t a = 0; a < I; ++a) b1[a] -= tk.tau * gb1[a], gb1[a] = 0;
    for (int64_t j = 0; j < d; ++j) b2[j] -= tk.tau * gb2[j], gb2[j] = 0;
  }
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

}  // namespace

void ttt_linear_primal_forward(
    Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttLinearParams& params, void* out) {
  dispatch_float(dtype, "ttt_linear_primal", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t d = dims.dim, BH = dims.batch * dims.heads;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t h = bh % dims.heads;
      std::vector<T> w(static_cast<const T*>(params.w) + h * d * d,
                       static_cast<const T*>(params.w) + (h + 1) * d * d);
      std::vector<T> b(static_cast<const T*>(params.b) + h * d,
                       static_cast<const T*>(params.b) + (h + 1) * d);
      std::vector<T> gw(d * d), gb(d), tmp(4 * d);
      for (int64_t t = 0; t < dims.seq; ++t)
        linear_token(token_at<T>(dims, seq, bh, t, t % dims.mini_batch),
                     w.data(),
                     b.data(),
                     gw.data(),
                     gb.data(),
                     static_cast<T*>(out) + (bh * dims.seq + t) * d,
                     tmp.data());
    }
  });
}

void ttt_mlp_primal_forward(
    Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttMlpParams& params, void* out) {
  dispatch_float(dtype, "ttt_mlp_primal", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t d = dims.dim, I = dims.hidden, BH = dims.batch * dims.heads;
    auto slice = [](const void* p, int64_t h, int64_t n) {
      return std::vector<T>(static_cast<const T*>(p) + h * n, static_cast<const T*>(p) + (h + 1) * n);
    };
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t h = bh % dims.heads;
      std::vector<T> w1 = slice(params.w1, h, d * I), b1 = slice(params.b1, h, I);
      std::vector<T> w2 = slice(params.w2, h, I * d), b2 = slice(params.b2, h, d);
      std::vector<T> gw1(d * I), gb1(I), gw2(I * d), gb2(d), tmp(5 * I + 4 * d);
      for (int64_t t = 0; t < dims.seq; ++t)
        mlp_token(token_at<T>(dims, seq, bh, t, t % dims.mini_batch),
                  w1.data(),
                  b1.data(),
                  w2.data(),
                  b2.data(),
                  gw1.data(),
                  gb1.data(),
                  gw2.data(),
                  gb2.data(),
                  static_cast<T*>(out) + (bh * dims.seq + t) * d,
                  tmp.data());
    }
  });
}

void ttt_linear_decode_step(Dtype dtype,
                            const TttDims& dims,
                            const TttSequence& token,
                            int64_t offset,
                            const TttLinearDecodeBuffers& state,
                            void* out) {
  dispatch_float(dtype, "ttt_linear_decode_step", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t d = dims.dim, BH = dims.batch * dims.heads;
#pragma omp parallel for schedule(static) if (BH > 1)
    for (int64_t bh = 0; bh < BH; ++bh) {
      std::vector<T> tmp(4 * d);
      linear_token(token_at<T>(dims, token, bh, 0, offset),
                   static_cast<T*>(state.w) + bh * d * d,
                   static_cast<T*>(state.b) + bh * d,
                   static_cast<T*>(state.grad_w) + bh * d * d,
                   static_cast<T*>(state.grad_b) + bh * d,
                   static_cast<T*>(out) + bh * d,
                   tmp.data());
    }
  });
}

void ttt_mlp_decode_step(Dtype dtype,
                         const TttDims& dims,
                         const TttSequence& token,
                         int64_t offset,
                         const TttMlpDecodeBuffers& state,
                         void* out) {
  dispatch_float(dtype, "ttt_mlp_decode_step", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t d = dims.dim, I = dims.hidden, BH = dims.batch * dims.heads;
    auto at = [](void* p, int64_t bh, int64_t n) { return static_cast<T*>(p) + bh * n; };
#pragma omp parallel for schedule(static) if (BH > 1)
    for (int64_t bh = 0; bh < BH; ++bh) {
      std::vector<T> tmp(5 * I + 4 * d);
      mlp_token(token_at<T>(dims, token, bh, 0, offset),
                at(state.w1, bh, d * I),
                at(state.b1, bh, I),
                at(state.w2, bh, I * d),
                at(state.b2, bh, d),
                at(state.grad_w1, bh, d * I),
                at(state.grad_b1, bh, I),
                at(state.grad_w2, bh, I * d),
                at(state.grad_b2, bh, d),
                static_cast<T*>(out) + bh * d,
                tmp.data());
    }
  });
}

}  // namespace tttlm::kernels::cpu
