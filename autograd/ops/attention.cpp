// causal_attention: checks, the kernel calls and the backward node; causal_attention_reference: the naive
// (T, T) computation in f64 loops with its own backward, the oracle the tests hold the fused op to.
#include "autograd/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/attention.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

void check_qkv(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  check_defined(op, "q", q);
  check_defined(op, "k", k);
  check_defined(op, "v", v);
  check_same_device(op, {{"q", &q}, {"k", &k}, {"v", &v}});
  check_same_dtype(op, {{"q", &q}, {"k", &k}, {"v", &v}});
  check_float(op, "q", q);
  TTT_CHECK(q.ndim() == 4 && q.shape() == k.shape() && q.shape() == v.shape(), "[", op,
            "] q, k and v must be (B, H, T, D) tensors of one shape; got ",
            describe_operands({{"q", &q}, {"k", &k}, {"v", &v}}));
  TTT_CHECK(q.size(3) >= 1, "[", op, "] the head dimension D must be at least 1; got q ", shape_str(q.shape()));
  TTT_CHECK(std::isfinite(scale), "[", op, "] scale must be finite; got ", scale);
}

// x itself when its last dimension has unit stride (all the kernels need), else a contiguous copy.
Tensor unit_inner(const Tensor& x) { return x.stride(3) == 1 || x.size(3) == 1 ? x : contiguous(x).detach(); }

// Kernel arguments for q, k, v views that unit_inner() has prepared.
kernels::AttentionArgs attention_args(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  kernels::AttentionArgs a;
  a.batch = q.size(0);
  a.heads = q.size(1);
  a.seq = q.size(2);
  a.dim = q.size(3);
  a.q = q.data_ptr();
  a.k = k.data_ptr();
  a.v = v.data_ptr();
  for (int i = 0; i < 3; ++i) {
    a.q_stride[i] = q.stride(i);
    a.k_stride[i] = k.stride(i);
    a.v_stride[i] = v.stride(i);
  }
  a.scale = scale;
  return a;
}

Dtype stats_dtype(Dtype dtype) { return dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32; }

struct CausalAttentionBackward final : autograd::Node {
  Tensor q, k, v;  // (B, H, T, D), unit stride over D
  Tensor out;      // (B, H, T, D), contiguous
  Tensor lse;      // (B, H, T), f32 (f64 for f64)
  double scale = 1.0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dout = contiguous(grad_or_zeros(grads, 0)).detach();  // (B, H, T, D)
    const Shape& s = q.shape();
    Tensor delta = Tensor::empty({s[0], s[1], s[2]}, lse.dtype(), q.device());
    Tensor dq = Tensor::empty(s, q.dtype(), q.device());
    Tensor dk = Tensor::empty(s, q.dtype(), q.device());
    Tensor dv = Tensor::empty(s, q.dtype(), q.device());
    kernels::AttentionArgs a = attention_args(q, k, v, scale);
    TTT_DISPATCH(q.device(), causal_attention_backward, q.dtype(), a, out.data_ptr(), dout.data_ptr(), lse.data_ptr(),
                 delta.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr());
    return {needs_input_grad(0) ? dq : Tensor(), needs_input_grad(1) ? dk : Tensor(),
            needs_input_grad(2) ? dv : Tensor()};
  }
  std::string name() const override { return "CausalAttentionBackward"; }
};

// ---- reference: (B, H, T, T) probabilities in f64 loops ----

struct Dims {
  int64_t bh, t, d;
};

// p (BH, T, T) = causal softmax of (q·scale)·kᵀ (zero above the diagonal); o (BH, T, D) = p·v.
void reference_forward(const Dims& n, const double* q, const double* k, const double* v, double scale, double* p,
                       double* o) {
  for (int64_t z = 0; z < n.bh; ++z)
    for (int64_t i = 0; i < n.t; ++i) {
      const double* qi = q + (z * n.t + i) * n.d;
      double* pi = p + (z * n.t + i) * n.t;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < n.t; ++j) {
        double s = 0;
        for (int64_t c = 0; c < n.d; ++c) s += scale * qi[c] * k[(z * n.t + j) * n.d + c];
        pi[j] = j <= i ? s : -std::numeric_limits<double>::infinity();
        mx = std::max(mx, pi[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < n.t; ++j) sum += (pi[j] = std::exp(pi[j] - mx));
      for (int64_t j = 0; j < n.t; ++j) pi[j] /= sum;
      for (int64_t c = 0; c < n.d; ++c) {
        double acc = 0;
        for (int64_t j = 0; j <= i; ++j) acc += pi[j] * v[(z * n.t + j) * n.d + c];
        o[(z * n.t + i) * n.d + c] = acc;
      }
    }
}

struct AttentionReferenceBackward final : autograd::Node {
  Tensor q, k, v, p;  // f64 CPU contiguous: (B, H, T, D) x 3, p (B, H, T, T)
  double scale = 1.0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dout = contiguous(grad_or_zeros(grads, 0)).detach();
    const Dims n{q.size(0) * q.size(1), q.size(2), q.size(3)};
    const double *Q = q.data<double>(), *K = k.data<double>(), *V = v.data<double>(), *P = p.data<double>();
    const double* dO = dout.data<double>();
    Tensor dq = Tensor::zeros(q.shape(), Dtype::f64), dk = Tensor::zeros(q.shape(), Dtype::f64),
           dv = Tensor::zeros(q.shape(), Dtype::f64);
    double *dQ = dq.data<double>(), *dK = dk.data<double>(), *dV = dv.data<double>();
    std::vector<double> dp(n.t);
    for (int64_t z = 0; z < n.bh; ++z)
      for (int64_t i = 0; i < n.t; ++i) {
        const int64_t row = z * n.t + i;
        double pdp = 0;  // rowsum(P ⊙ dP), the softmax backward's correction
        for (int64_t j = 0; j <= i; ++j) {
          dp[j] = 0;
          for (int64_t c = 0; c < n.d; ++c) dp[j] += dO[row * n.d + c] * V[(z * n.t + j) * n.d + c];
          pdp += P[row * n.t + j] * dp[j];
        }
        for (int64_t j = 0; j <= i; ++j) {
          const double pij = P[row * n.t + j], ds = pij * (dp[j] - pdp);
          for (int64_t c = 0; c < n.d; ++c) {
            dV[(z * n.t + j) * n.d + c] += pij * dO[row * n.d + c];
            dQ[row * n.d + c] += scale * ds * K[(z * n.t + j) * n.d + c];
            dK[(z * n.t + j) * n.d + c] += scale * ds * Q[row * n.d + c];
          }
        }
      }
    return {dq, dk, dv};
  }
  std::string name() const override { return "AttentionReferenceBackward"; }
};

}  // namespace

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  check_qkv("causal_attention", q, k, v, scale);
  Tensor qu = unit_inner(q.detach()), ku = unit_inner(k.detach()), vu = unit_inner(v.detach());
  const Shape& s = q.shape();
  Tensor out = Tensor::empty(s, q.dtype(), q.device());                                // (B, H, T, D)
  Tensor lse = Tensor::empty({s[0], s[1], s[2]}, stats_dtype(q.dtype()), q.device());  // (B, H, T)
  kernels::AttentionArgs a = attention_args(qu, ku, vu, scale);
  TTT_DISPATCH(q.device(), causal_attention_forward, q.dtype(), a, out.data_ptr(), lse.data_ptr());
  if (autograd::any_requires_grad({q, k, v})) {
    auto node = std::make_shared<CausalAttentionBackward>();
    node->q = qu;
    node->k = ku;
    node->v = vu;
    node->out = out.detach();
    node->lse = lse;
    node->scale = scale;
    autograd::record(node, {q, k, v}, {out});
  }
  return out;
}

Tensor causal_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  check_qkv("causal_attention_reference", q, k, v, scale);
  // Differentiable moves to f64 on the CPU and back, so the loops below see one layout.
  auto to_ref = [](const Tensor& x) { return contiguous(cast(to(x, cpu_device()), Dtype::f64)); };
  Tensor q64 = to_ref(q), k64 = to_ref(k), v64 = to_ref(v);
  const Shape& s = q.shape();
  const Dims n{s[0] * s[1], s[2], s[3]};
  Tensor p = Tensor::empty({s[0], s[1], s[2], s[2]}, Dtype::f64);  // (B, H, T, T)
  Tensor out = Tensor::empty(s, Dtype::f64);
  reference_forward(n, q64.data<double>(), k64.data<double>(), v64.data<double>(), scale, p.data<double>(),
                    out.data<double>());
  if (autograd::any_requires_grad({q64, k64, v64})) {
    auto node = std::make_shared<AttentionReferenceBackward>();
    node->q = q64.detach();
    node->k = k64.detach();
    node->v = v64.detach();
    node->p = p;
    node->scale = scale;
    autograd::record(node, {q64, k64, v64}, {out});
  }
  return to(cast(out, q.dtype()), q.device());
}

}  // namespace tttlm::ops
