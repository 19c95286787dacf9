// Fused ops against the same computation composed of primitive ops and differentiated by autograd
// (docs/adding_an_op.md): the selective scan (sequential recurrence, docs/spec/mamba.md §3) and TTT-Linear
// (dual form per mini-batch, docs/spec/ttt.md §3.7, with the LN-vjp written out of primitive ops so autograd
// differentiates it twice). Outputs and every input gradient must agree in f64.
#include <catch2/catch.hpp>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/activation.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/mask.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/scan.h"
#include "autograd/ops/ttt.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs fused and composed on fresh leaf copies and compares the output and every input gradient.
void require_same(const Fn& fused, const Fn& composed, const std::vector<Tensor>& inputs, double tol) {
  std::vector<Tensor> a, b;
  for (const auto& t : inputs) {
    a.push_back(req(ops::clone(t)));
    b.push_back(req(ops::clone(t)));
  }
  Tensor ya = fused(a), yb = composed(b);
  require_close(ya, yb, tol, tol, "output");
  Tensor dy = randn(ya.shape(), 999, Dtype::f64);
  autograd::backward({ya}, {dy});
  autograd::backward({yb}, {dy});
  for (size_t i = 0; i < inputs.size(); ++i)
    require_close(a[i].grad(), b[i].grad(), tol, tol, "grad of input " + std::to_string(i));
}

Tensor last_dim_unsq(const Tensor& x) { return ops::unsqueeze(x, -1); }

}  // namespace

TEST_CASE("selective_scan fused == the recurrence composed of primitive ops, forward and backward", "[ops][scan]") {
  const int64_t B = 2, T = 6, Di = 3, N = 4;
  std::vector<Tensor> in = {randn({B, T, Di}, 1, Dtype::f64),                   // u
                            randn({B, T, Di}, 2, Dtype::f64),                   // delta_raw
                            ops::neg(ops::exp(randn({Di, N}, 3, Dtype::f64))),  // A
                            randn({B, T, N}, 4, Dtype::f64),                    // B
                            randn({B, T, N}, 5, Dtype::f64),                    // C
                            randn({Di}, 6, Dtype::f64),                         // D
                            randn({Di}, 7, Dtype::f64),                         // delta_bias
                            randn({B, T, Di}, 8, Dtype::f64)};                  // z
  Fn fused = [](const std::vector<Tensor>& x) {
    return ops::selective_scan(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], 4);
  };
  Fn composed = [&](const std::vector<Tensor>& x) {
    Tensor delta = ops::softplus(ops::add(x[1], x[6]));  // (B, T, Di)
    Tensor h = Tensor::zeros({B, Di, N}, Dtype::f64);
    std::vector<Tensor> ys;
    for (int64_t t = 0; t < T; ++t) {
      Tensor d = ops::select(delta, 1, t), u = ops::select(x[0], 1, t);  // (B, Di)
      Tensor decay = ops::exp(ops::mul(last_dim_unsq(d), x[2]));         // (B, Di, N)
      Tensor drive = ops::mul(last_dim_unsq(ops::mul(d, u)), ops::unsqueeze(ops::select(x[3], 1, t), 1));
      h = ops::add(ops::mul(decay, h), drive);
      Tensor y = ops::add(ops::sum(ops::mul(h, ops::unsqueeze(ops::select(x[4], 1, t), 1)), {2}), ops::mul(x[5], u));
      ys.push_back(ops::unsqueeze(y, 1));
    }
    return ops::mul(ops::concat(ys, 1), ops::silu(x[7]));
  };
  require_same(fused, composed, in, 1e-10);
}

namespace {

// LN over the last dim and its input-gradient for an output error e, both from primitive ops.
struct Ln {
  Tensor zhat, std;
};
Ln ln_stats(const Tensor& z) {
  Tensor xc = ops::sub(z, ops::mean(z, {-1}, true));
  Tensor var = ops::mean(ops::mul(xc, xc), {-1}, true);
  Tensor std = ops::exp(ops::scale(ops::log(ops::add_scalar(var, 1e-6)), 0.5));
  return {ops::div(xc, std), std};
}

}  // namespace

TEST_CASE("ttt_linear fused == the dual form composed of primitive ops, forward and backward", "[ops][ttt]") {
  const int64_t B = 2, H = 2, T = 12, D = 4, mb = 4;
  std::vector<double> tau = {1.0, 0.45, 0.4, 0.2};
  std::vector<Tensor> in = {randn({B, H, T, D}, 11, Dtype::f64),          // q
                            randn({B, H, T, D}, 12, Dtype::f64),          // k
                            randn({B, H, T, D}, 13, Dtype::f64),          // v
                            Tensor::from_vector(tau, {mb}),               // token_eta
                            randu({B, H, T}, 14, 0.05, 0.3, Dtype::f64),  // ttt_lr
                            randn({H, D, D}, 15, Dtype::f64, 0.3),        // W0
                            randn({H, D}, 16, Dtype::f64, 0.2),           // b0
                            randu({H, D}, 17, 0.5, 1.5, Dtype::f64),      // ln weight
                            randn({H, D}, 18, Dtype::f64, 0.2)};          // ln bias
  Fn fused = [&](const std::vector<Tensor>& x) {
    ops::TttOptions o;
    o.mini_batch = mb;
    o.snapshot_every = 2;
    return ops::ttt({x[0], x[1], x[2], x[3], x[4], x[7], x[8]}, {ops::InnerModel::linear, {x[5], x[6]}}, o);
  };
  Fn composed = [&](const std::vector<Tensor>& x) {
    Tensor gamma = ops::unsqueeze(x[7], 1), beta = ops::unsqueeze(x[8], 1);  // (H, 1, D)
    Tensor W = ops::expand(x[5], {B, H, D, D});
    Tensor b = ops::expand(ops::unsqueeze(x[6], 1), {B, H, 1, D});
    Tensor ones_tril = ops::tril(Tensor::full({mb, mb}, 1.0, Dtype::f64));
    std::vector<Tensor> outs;
    for (int64_t s = 0; s < T; s += mb) {
      Tensor q = ops::narrow(x[0], 2, s, mb), k = ops::narrow(x[1], 2, s, mb), v = ops::narrow(x[2], 2, s, mb);
      // eta_ij = tau_i * lr_j : (B, H, mb, mb)
      Tensor eta = ops::mul(ops::unsqueeze(ops::unsqueeze(ops::unsqueeze(x[3], 1), 0), 0),
                            ops::unsqueeze(ops::narrow(x[4], 2, s, mb), 2));
      Tensor z = ops::add(ops::matmul(k, W), b);
      Ln st = ln_stats(z);
      Tensor e = ops::sub(ops::add(ops::mul(gamma, st.zhat), beta), ops::sub(v, k));
      Tensor gh = ops::mul(gamma, e);
      Tensor g = ops::div(ops::sub(ops::sub(gh, ops::mean(gh, {-1}, true)),
                                   ops::mul(st.zhat, ops::mean(ops::mul(gh, st.zhat), {-1}, true))),
                          st.std);  // dℓ/dz (B, H, mb, D)
      Tensor attn = ops::tril(ops::matmul(q, ops::transpose(k, -1, -2)));
      Tensor zbar = ops::add(ops::sub(ops::matmul(q, W), ops::matmul(ops::mul(eta, attn), g)),
                             ops::sub(b, ops::matmul(ops::mul(eta, ones_tril), g)));
      Ln so = ln_stats(zbar);
      outs.push_back(ops::add(q, ops::add(ops::mul(gamma, so.zhat), beta)));
      Tensor last = ops::narrow(eta, 2, mb - 1, 1);  // (B, H, 1, mb): the carried state uses row mb-1
      W = ops::sub(W, ops::matmul(ops::transpose(k, -1, -2), ops::mul(ops::transpose(last, -1, -2), g)));
      b = ops::sub(b, ops::matmul(last, g));
    }
    return ops::concat(outs, 2);
  };
  require_same(fused, composed, in, 1e-9);
}

namespace {
// gelu'(x) with the literal constants of the official inner loop (docs/spec/ttt.md §2.1), from primitive ops.
Tensor gelu_derivative(const Tensor& x) {
  Tensor x2 = ops::mul(x, x);
  Tensor t = ops::tanh(ops::mul(ops::scale(x, 0.79788456), ops::add_scalar(ops::scale(x2, 0.044715), 1.0)));
  Tensor one_minus_t2 = ops::affine(ops::mul(t, t), -1.0, 1.0);
  Tensor a =
      ops::mul(ops::mul(ops::scale(x, 0.5), one_minus_t2), ops::add_scalar(ops::scale(x2, 0.1070322243), 0.79788456));
  return ops::add(a, ops::affine(t, 0.5, 0.5));
}
}  // namespace

TEST_CASE("ttt_mlp fused == the dual form composed of primitive ops, forward and backward", "[ops][ttt]") {
  const int64_t B = 1, H = 2, T = 8, D = 3, I = 5, mb = 4;
  std::vector<double> tau = {1.0, 0.45, 0.3, 0.2};
  std::vector<Tensor> in = {randn({B, H, T, D}, 21, Dtype::f64),          // q
                            randn({B, H, T, D}, 22, Dtype::f64),          // k
                            randn({B, H, T, D}, 23, Dtype::f64),          // v
                            Tensor::from_vector(tau, {mb}),               // token_eta
                            randu({B, H, T}, 24, 0.05, 0.3, Dtype::f64),  // ttt_lr
                            randn({H, D, I}, 25, Dtype::f64, 0.4),        // W1
                            randn({H, I}, 26, Dtype::f64, 0.2),           // b1
                            randn({H, I, D}, 27, Dtype::f64, 0.4),        // W2
                            randn({H, D}, 28, Dtype::f64, 0.2),           // b2
                            randu({H, D}, 29, 0.5, 1.5, Dtype::f64),      // ln weight
                            randn({H, D}, 30, Dtype::f64, 0.2)};          // ln bias
  Fn fused = [&](const std::vector<Tensor>& x) {
    ops::TttOptions o;
    o.mini_batch = mb;
    return ops::ttt({x[0], x[1], x[2], x[3], x[4], x[9], x[10]}, {ops::InnerModel::mlp, {x[5], x[6], x[7], x[8]}}, o);
  };
  Fn composed = [&](const std::vector<Tensor>& x) {
    Tensor gamma = ops::unsqueeze(x[9], 1), beta = ops::unsqueeze(x[10], 1);
    Tensor W1 = ops::expand(x[5], {B, H, D, I}), W2 = ops::expand(x[7], {B, H, I, D});
    Tensor b1 = ops::expand(ops::unsqueeze(x[6], 1), {B, H, 1, I}),
           b2 = ops::expand(ops::unsqueeze(x[8], 1), {B, H, 1, D});
    Tensor ones_tril = ops::tril(Tensor::full({mb, mb}, 1.0, Dtype::f64));
    std::vector<Tensor> outs;
    for (int64_t s = 0; s < T; s += mb) {
      Tensor q = ops::narrow(x[0], 2, s, mb), k = ops::narrow(x[1], 2, s, mb), v = ops::narrow(x[2], 2, s, mb);
      Tensor eta = ops::mul(ops::unsqueeze(ops::unsqueeze(ops::unsqueeze(x[3], 1), 0), 0),
                            ops::unsqueeze(ops::narrow(x[4], 2, s, mb), 2));
      Tensor z1 = ops::add(ops::matmul(k, W1), b1);
      Tensor x2 = ops::gelu(z1);
      Tensor z2 = ops::add(ops::matmul(x2, W2), b2);
      Ln st = ln_stats(z2);
      Tensor gh = ops::mul(gamma, ops::sub(ops::add(ops::mul(gamma, st.zhat), beta), ops::sub(v, k)));
      Tensor g2 = ops::div(ops::sub(ops::sub(gh, ops::mean(gh, {-1}, true)),
                                    ops::mul(st.zhat, ops::mean(ops::mul(gh, st.zhat), {-1}, true))),
                           st.std);
      Tensor g1 = ops::mul(ops::matmul(g2, ops::transpose(W2, -1, -2)), gelu_derivative(z1));
      Tensor zb1 =
          ops::add(ops::sub(ops::matmul(q, W1),
                            ops::matmul(ops::mul(eta, ops::tril(ops::matmul(q, ops::transpose(k, -1, -2)))), g1)),
                   ops::sub(b1, ops::matmul(ops::mul(eta, ones_tril), g1)));
      Tensor xb2 = ops::gelu(zb1);
      Tensor zb2 =
          ops::add(ops::sub(ops::matmul(xb2, W2),
                            ops::matmul(ops::mul(eta, ops::tril(ops::matmul(xb2, ops::transpose(x2, -1, -2)))), g2)),
                   ops::sub(b2, ops::matmul(ops::mul(eta, ones_tril), g2)));
      Ln so = ln_stats(zb2);
      outs.push_back(ops::add(q, ops::add(ops::mul(gamma, so.zhat), beta)));
      Tensor last = ops::narrow(eta, 2, mb - 1, 1);
      Tensor lt = ops::transpose(last, -1, -2);
      W1 = ops::sub(W1, ops::matmul(ops::transpose(k, -1, -2), ops::mul(lt, g1)));
      b1 = ops::sub(b1, ops::matmul(last, g1));
      W2 = ops::sub(W2, ops::matmul(ops::transpose(x2, -1, -2), ops::mul(lt, g2)));
      b2 = ops::sub(b2, ops::matmul(last, g2));
    }
    return ops::concat(outs, 2);
  };
  require_same(fused, composed, in, 1e-9);
}
