// Test-side reference for the TTT ops, written from docs/spec/ttt.md §3.6-§3.8 in plain double loops and
// independent of kernels/: the primal form with each token's state W_i = W − Σ_{j<=i} eta_ij·∂ℓ_j/∂W
// built from the explicit double sum, the LN gradient through the explicit LN Jacobian, and gelu' from
// its §2.1 formula. Plus seeded random inputs with every parameter perturbed off its init.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/ttt.h"
#include "helpers.h"

namespace tttlm::test {

struct TttCase {
  int64_t B = 2, H = 2, T = 21, D = 4, I = 8, mini_batch = 8;
  uint64_t seed = 1;
};

struct TttInputs {
  Tensor xq, xk, xv, token_eta, ttt_lr, w0, b0, w1, b1, w2, b2, ln_weight, ln_bias;
};

inline TttInputs make_ttt_inputs(const TttCase& c, Dtype dtype = Dtype::f64) {
  const uint64_t s = c.seed * 100;
  TttInputs in;
  in.xq = randn({c.B, c.H, c.T, c.D}, s + 1, dtype, 0.7);
  in.xk = randn({c.B, c.H, c.T, c.D}, s + 2, dtype, 0.7);
  in.xv = randn({c.B, c.H, c.T, c.D}, s + 3, dtype, 0.7);
  in.token_eta = randu({c.mini_batch}, s + 4, 0.2, 1.0, dtype);
  in.ttt_lr = randu({c.B, c.H, c.T}, s + 5, 0.05, 0.4, dtype);
  in.w0 = randn({c.H, c.D, c.D}, s + 6, dtype, 0.4);
  in.b0 = randn({c.H, c.D}, s + 7, dtype, 0.2);
  in.w1 = randn({c.H, c.D, c.I}, s + 8, dtype, 0.4);
  in.b1 = randn({c.H, c.I}, s + 9, dtype, 0.2);
  in.w2 = randn({c.H, c.I, c.D}, s + 10, dtype, 0.4);
  in.b2 = randn({c.H, c.D}, s + 11, dtype, 0.2);
  in.ln_weight = randu({c.H, c.D}, s + 12, 0.6, 1.4, dtype);
  in.ln_bias = randn({c.H, c.D}, s + 13, dtype, 0.2);
  return in;
}

namespace ref {

using Vec = std::vector<double>;

inline double gelu(double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }
inline double gelu_inner_grad(double x) {  // §2.1, literal constants
  double t = std::tanh(0.79788456 * x * (1 + 0.044715 * x * x));
  return 0.5 * x * (1 - t * t) * (0.79788456 + 0.1070322243 * x * x) + 0.5 * (1 + t);
}

// LN(z) over n, and the gradient of ½‖LN(z) − r‖² through the explicit Jacobian of LN.
inline Vec layer_norm(const Vec& z, const double* g, const double* b) {
  const double n = static_cast<double>(z.size());
  double mu = 0, var = 0;
  for (double v : z) mu += v / n;
  for (double v : z) var += (v - mu) * (v - mu) / n;
  Vec y(z.size());
  for (size_t i = 0; i < z.size(); ++i) y[i] = g[i] * (z[i] - mu) / std::sqrt(var + 1e-6) + b[i];
  return y;
}
inline Vec ln_l2_grad(const Vec& z, const Vec& r, const double* g, const double* b) {
  const size_t n = z.size();
  double mu = 0, var = 0;
  for (double v : z) mu += v / n;
  for (double v : z) var += (v - mu) * (v - mu) / n;
  const double sd = std::sqrt(var + 1e-6);
  Vec y = layer_norm(z, g, b), out(n, 0.0);
  for (size_t k = 0; k < n; ++k)      // output index
    for (size_t l = 0; l < n; ++l) {  // input index
      double xk = (z[k] - mu) / sd, xl = (z[l] - mu) / sd;
      double jac = g[k] * ((k == l) - 1.0 / n - xk * xl / n) / sd;
      out[l] += (y[k] - r[k]) * jac;
    }
  return out;
}

struct Options {
  int64_t mini_batch;
  bool layer_norm, residual;
};

// z (n) = x (m) · W (m, n) + b
inline Vec affine(const Vec& x, const Vec& W, const Vec& b) {
  Vec z(b);
  for (size_t a = 0; a < x.size(); ++a)
    for (size_t j = 0; j < b.size(); ++j) z[j] += x[a] * W[a * b.size() + j];
  return z;
}

// The primal form; mlp picks f_res. Returns Z (B, H, T, D) flattened.
inline Vec primal(const TttInputs& in, const Options& o, bool mlp) {
  const int64_t B = in.xq.size(0), H = in.xq.size(1), T = in.xq.size(2), D = in.xq.size(3);
  const int64_t I = mlp ? in.w1.size(2) : 0;
  Vec q = in.xq.to_vector<double>(), k = in.xk.to_vector<double>(), v = in.xv.to_vector<double>();
  Vec tau = in.token_eta.to_vector<double>(), lr = in.ttt_lr.to_vector<double>();
  Vec gam = in.ln_weight.to_vector<double>(), bet = in.ln_bias.to_vector<double>();
  Vec P0 = (mlp ? in.w1 : in.w0).to_vector<double>(), P1 = (mlp ? in.b1 : in.b0).to_vector<double>();
  Vec P2 = mlp ? in.w2.to_vector<double>() : Vec(), P3 = mlp ? in.b2.to_vector<double>() : Vec();
  const int64_t n0 = D * (mlp ? I : D), n1 = mlp ? I : D, n2 = I * D;
  Vec out(B * H * T * D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const double *g = &gam[h * D], *be = &bet[h * D];
      auto ln = [&](const Vec& z) { return o.layer_norm ? layer_norm(z, g, be) : z; };
      // State: W (or W1), b (or b1), W2, b2.
      Vec W(P0.begin() + h * n0, P0.begin() + (h + 1) * n0), c(P1.begin() + h * n1, P1.begin() + (h + 1) * n1);
      Vec W2 = mlp ? Vec(P2.begin() + h * n2, P2.begin() + (h + 1) * n2) : Vec();
      Vec c2 = mlp ? Vec(P3.begin() + h * D, P3.begin() + (h + 1) * D) : Vec();
      for (int64_t t0 = 0; t0 < T; t0 += o.mini_batch) {
        const int64_t r = std::min(o.mini_batch, T - t0);
        auto row = [&](const Vec& x, int64_t t) {
          return Vec(x.begin() + ((b * H + h) * T + t) * D, x.begin() + ((b * H + h) * T + t + 1) * D);
        };
        // Per-token gradients at the mini-batch's starting state: dW, db (and dW2, db2).
        std::vector<Vec> gW(r), gb(r), gW2(r), gb2(r);
        for (int64_t j = 0; j < r; ++j) {
          Vec kj = row(k, t0 + j), vj = row(v, t0 + j), target(D);
          for (int64_t x = 0; x < D; ++x) target[x] = o.residual ? vj[x] - kj[x] : vj[x];
          Vec x_in = kj, z1, x2;
          if (mlp) {
            z1 = affine(kj, W, c);
            x2 = z1;
            for (auto& e : x2) e = gelu(e);
          }
          Vec z = mlp ? affine(x2, W2, c2) : affine(kj, W, c);
          Vec gz(D);
          if (o.layer_norm) {
            gz = ln_l2_grad(z, target, g, be);
          } else {
            for (int64_t x = 0; x < D; ++x) gz[x] = z[x] - target[x];
          }
          if (mlp) {
            Vec g1(I);
            for (int64_t a = 0; a < I; ++a) {
              double s = 0;
              for (int64_t x = 0; x < D; ++x) s += gz[x] * W2[a * D + x];
              g1[a] = s * gelu_inner_grad(z1[a]);
            }
            gW[j].assign(D * I, 0);
            for (int64_t x = 0; x < D; ++x)
              for (int64_t a = 0; a < I; ++a) gW[j][x * I + a] = kj[x] * g1[a];
            gb[j] = g1;
            gW2[j].assign(I * D, 0);
            for (int64_t a = 0; a < I; ++a)
              for (int64_t x = 0; x < D; ++x) gW2[j][a * D + x] = x2[a] * gz[x];
            gb2[j] = gz;
          } else {
            gW[j].assign(D * D, 0);
            for (int64_t x = 0; x < D; ++x)
              for (int64_t y = 0; y < D; ++y) gW[j][x * D + y] = kj[x] * gz[y];
            gb[j] = gz;
          }
        }
        // Token i's own state, from the explicit sum over j <= i, applied to q_i.
        Vec Wi, ci, W2i, c2i;
        for (int64_t i = 0; i < r; ++i) {
          Wi = W, ci = c, W2i = W2, c2i = c2;
          for (int64_t j = 0; j <= i; ++j) {
            const double eta = tau[i] * lr[(b * H + h) * T + t0 + j];
            for (size_t e = 0; e < Wi.size(); ++e) Wi[e] -= eta * gW[j][e];
            for (size_t e = 0; e < ci.size(); ++e) ci[e] -= eta * gb[j][e];
            for (size_t e = 0; e < W2i.size(); ++e) W2i[e] -= eta * gW2[j][e];
            for (size_t e = 0; e < c2i.size(); ++e) c2i[e] -= eta * gb2[j][e];
          }
          Vec qi = row(q, t0 + i), z;
          if (mlp) {
            Vec a = affine(qi, Wi, ci);
            for (auto& e : a) e = gelu(e);
            z = affine(a, W2i, c2i);
          } else {
            z = affine(qi, Wi, ci);
          }
          Vec y = ln(z);
          for (int64_t x = 0; x < D; ++x) out[((b * H + h) * T + t0 + i) * D + x] = (o.residual ? qi[x] : 0.0) + y[x];
        }
        W = Wi, c = ci, W2 = W2i, c2 = c2i;  // the carry is the last row
      }
    }
  return out;
}

}  // namespace ref

inline Tensor ref_ttt(const TttInputs& in, const ops::TttOptions& o, ops::InnerModel model) {
  return Tensor::from_vector(ref::primal(in, {o.mini_batch, o.layer_norm, o.residual}, model == ops::InnerModel::mlp),
                             in.xq.shape());
}

// The inner model's initial parameters among the inputs, in its traits' order.
inline std::vector<Tensor> inner_params(const TttInputs& in, ops::InnerModel model) {
  if (model == ops::InnerModel::mlp) return {in.w1, in.b1, in.w2, in.b2};
  return {in.w0, in.b0};
}

// The op's operands in order: xq, xk, xv, token_eta, ttt_lr, inner parameters, ln_weight, ln_bias.
inline std::vector<Tensor> ttt_args(const TttInputs& in, ops::InnerModel model) {
  std::vector<Tensor> a = {in.xq, in.xk, in.xv, in.token_eta, in.ttt_lr};
  for (const Tensor& p : inner_params(in, model)) a.push_back(p);
  a.push_back(in.ln_weight);
  a.push_back(in.ln_bias);
  return a;
}

// ops::ttt (or ops::ttt_primal) on the operands of ttt_args.
inline Tensor call_ttt(const std::vector<Tensor>& a, const ops::TttOptions& o, ops::InnerModel model,
                       bool primal = false) {
  const size_t n = a.size();
  const ops::TttSequenceInputs seq{a[0], a[1], a[2], a[3], a[4], a[n - 2], a[n - 1]};
  const ops::TttInner inner{model, std::vector<Tensor>(a.begin() + 5, a.end() - 2)};
  return primal ? ops::ttt_primal(seq, inner, o) : ops::ttt(seq, inner, o);
}

// Gradients of sum(op(args) ⊙ R), R = randn(seed), w.r.t. every argument.
inline std::vector<Tensor> ttt_grads(const std::vector<Tensor>& args, const ops::TttOptions& o, ops::InnerModel model,
                                     uint64_t seed = 77) {
  std::vector<Tensor> leaves;
  for (const Tensor& a : args) leaves.push_back(req(ops::clone(a)));
  Tensor y = call_ttt(leaves, o, model);
  autograd::backward({y}, {ops::to(randn(y.shape(), seed, y.dtype()), y.device())});
  std::vector<Tensor> g;
  for (const Tensor& l : leaves) g.push_back(l.grad());
  return g;
}

// The fused backward against central differences of the primal forward at the first, middle and last
// element of every argument (f64).
inline void require_primal_spot_check(const std::vector<Tensor>& args, const ops::TttOptions& o,
                                      ops::InnerModel model) {
  std::vector<Tensor> g = ttt_grads(args, o, model);
  const std::vector<double> R = randn(args[0].shape(), 77, Dtype::f64).to_vector<double>();
  auto loss = [&](const std::vector<Tensor>& a) {
    std::vector<double> y = call_ttt(a, o, model, true).to_vector<double>();
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += y[i] * R[i];
    return s;
  };
  const double eps = 1e-6;
  for (size_t i = 0; i < args.size(); ++i)
    for (int64_t e : {int64_t{0}, args[i].numel() / 2, args[i].numel() - 1}) {
      std::vector<Tensor> plus(args), minus(args);
      plus[i] = ops::clone(args[i]);
      minus[i] = ops::clone(args[i]);
      plus[i].data<double>()[e] += eps;
      minus[i].data<double>()[e] -= eps;
      const double numeric = (loss(plus) - loss(minus)) / (2 * eps);
      const double analytic = g[i].to_vector<double>()[e];
      INFO("argument " << i << " element " << e << ": fused backward " << analytic << ", primal central difference "
                       << numeric);
      REQUIRE(std::abs(analytic - numeric) <= 1e-7 + 1e-5 * std::abs(numeric));
    }
}

// The op in f32 against f64 (the args): the output and every gradient, within a tolerance relative to each
// tensor's largest magnitude (f32 rounding grows through the mini-batches).
inline void require_f32_matches_f64(const std::vector<Tensor>& args, const ops::TttOptions& o, ops::InnerModel model) {
  std::vector<Tensor> f32;
  for (const Tensor& a : args) f32.push_back(ops::cast(a, Dtype::f32));
  std::vector<Tensor> want = ttt_grads(args, o, model), got = ttt_grads(f32, o, model);
  want.insert(want.begin(), call_ttt(args, o, model));
  got.insert(got.begin(), call_ttt(f32, o, model));
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].dtype() == Dtype::f32);
    double scale = 0;
    for (double x : want[i].to_vector<double>()) scale = std::max(scale, std::abs(x));
    require_close(got[i], want[i], 1e-4 * scale, 0, "f32 vs f64, output then gradient " + std::to_string(i));
  }
}

}  // namespace tttlm::test
