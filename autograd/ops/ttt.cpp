// TTT-Linear and TTT-MLP ops: checks, the fused dual-form forward with its backward node, the primal-form
// reference and decoding (kernels in kernels/ttt.h). Linear and MLP share one path; `mlp` picks the kernels
// and the inner parameters (W0, b0 or W1, b1, W2, b2), which sit between ttt_lr and ln_weight in the
// argument (and gradient) order.
#include "autograd/ops/ttt.h"

#include <cstring>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "kernels/ttt.h"

namespace tttlm::ops {

namespace {

constexpr const char* kLinearNames[] = {
    "xq", "xk", "xv", "token_eta", "ttt_lr", "w0", "b0", "ln_weight", "ln_bias"};
constexpr const char* kMlpNames[] = {
    "xq", "xk", "xv", "token_eta", "ttt_lr", "w1", "b1", "w2", "b2", "ln_weight", "ln_bias"};
// Positions in the input list: xq, xk, xv, token_eta, ttt_lr, inner..., ln_weight, ln_bias.
constexpr size_t kXq = 0, kXk = 1, kXv = 2, kEta = 3, kLr = 4, kInner = 5;

std::string operands_of(const std::vector<Tensor>& in, const char* const* names) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i)
    s += std::string(i ? ", " : "") + names[i] + ": " + (in[i].defined() ? in[i].describe() : "undefined");
  return s;
}

void check_shape(const char* op,
                 const char* name,
                 const Tensor& t,
                 const char* letters,
                 const Shape& want,
                 const std::string& all) {
  TTT_CHECK(t.shape() == want,
            "[",
            op,
            "] ",
            name,
            " must have shape ",
            letters,
            " = ",
            shape_str(want),
            ", got ",
            shape_str(t.shape()),
            "; operands: ",
            all);
}

// Validates a sequence call and returns its sizes (checkpoint and options fields set from `o`).
kernels::TttDims check_sequence(const char* op,
                                bool mlp,
                                const std::vector<Tensor>& in,
                                const TttOptions& o) {
  const char* const* names = mlp ? kMlpNames : kLinearNames;
  const std::string all = operands_of(in, names);
  for (size_t i = 0; i < in.size(); ++i)
    TTT_CHECK(in[i].defined(), "[", op, "] ", names[i], " is undefined; ", all);
  for (size_t i = 0; i < in.size(); ++i) {
    TTT_CHECK(in[i].device() == in[0].device(), "[", op, "] operands must be on one device; got ", all);
    TTT_CHECK(in[i].dtype() == in[0].dtype(), "[", op, "] operands must have one dtype; got ", all);
  }
  TTT_CHECK(dtype_is_float(in[0].dtype()), "[", op, "] operands must be floating tensors; got ", all);
  TTT_CHECK(o.mini_batch >= 1 && o.checkpoint_every >= 1,
            "[",
            op,
            "] options.mini_batch and options.checkpoint_every must be >= 1, got ",
            o.mini_batch,
            " and ",
            o.checkpoint_every);
  const Tensor& xq = in[kXq];
  TTT_CHECK(xq.ndim() == 4,
            "[",
            op,
            "] xq must have shape (B, H, T, D), got ",
            shape_str(xq.shape()),
            "; operands: ",
            all);
  kernels::TttDims d;
  d.batch = xq.size(0);
  d.heads = xq.size(1);
  d.seq = xq.size(2);
  d.dim = xq.size(3);
  d.mini_batch = o.mini_batch;
  d.checkpoint_every = o.checkpoint_every;
  d.layer_norm = o.layer_norm;
  d.residual = o.residual;
  const int64_t B = d.batch, H = d.heads, T = d.seq, D = d.dim;
  check_shape(op, "xk", in[kXk], "(B, H, T, D)", xq.shape(), all);
  check_shape(op, "xv", in[kXv], "(B, H, T, D)", xq.shape(), all);
  check_shape(op, "token_eta", in[kEta], "(mini_batch)", {o.mini_batch}, all);
  check_shape(op, "ttt_lr", in[kLr], "(B, H, T)", {B, H, T}, all);
  if (mlp) {
    d.hidden = in[kInner].ndim() == 3 ? in[kInner].size(2) : 0;
    TTT_CHECK(d.hidden >= 1,
              "[",
              op,
              "] w1 must have shape (H, D, I) with I >= 1, got ",
              shape_str(in[kInner].shape()),
              "; operands: ",
              all);
    check_shape(op, "w1", in[kInner], "(H, D, I)", {H, D, d.hidden}, all);
    check_shape(op, "b1", in[kInner + 1], "(H, I)", {H, d.hidden}, all);
    check_shape(op, "w2", in[kInner + 2], "(H, I, D)", {H, d.hidden, D}, all);
    check_shape(op, "b2", in[kInner + 3], "(H, D)", {H, D}, all);
  } else {
    check_shape(op, "w0", in[kInner], "(H, D, D)", {H, D, D}, all);
    check_shape(op, "b0", in[kInner + 1], "(H, D)", {H, D}, all);
  }
  check_shape(op, "ln_weight", in[in.size() - 2], "(H, D)", {H, D}, all);
  check_shape(op, "ln_bias", in[in.size() - 1], "(H, D)", {H, D}, all);
  return d;
}

std::vector<Tensor> contiguous_all(const std::vector<Tensor>& in) {
  autograd::NoGradGuard ng;
  std::vector<Tensor> out;
  for (const Tensor& t : in) out.push_back(contiguous(t.detach()).detach());
  return out;
}

kernels::TttSequence sequence_of(const std::vector<Tensor>& c) {
  kernels::TttSequence s;
  s.xq = c[kXq].data_ptr();
  s.xk = c[kXk].data_ptr();
  s.xv = c[kXv].data_ptr();
  s.token_eta = c[kEta].data_ptr();
  s.ttt_lr = c[kLr].data_ptr();
  s.ln_weight = c[c.size() - 2].data_ptr();
  s.ln_bias = c[c.size() - 1].data_ptr();
  return s;
}

struct TttBackward final : autograd::Node {
  bool mlp = false;
  kernels::TttDims dims;
  std::vector<Tensor> inputs;  // contiguous copies, in argument order
  Tensor checkpoints;          // (B, H, num_checkpoints, state_size)

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dout = contiguous(grad_or_zeros(grads, 0)).detach();
    std::vector<Tensor> g;
    for (const Tensor& t : inputs) g.push_back(Tensor::empty(t.shape(), t.dtype(), t.device()));
    kernels::TttSequenceGrads sg{g[kXq].data_ptr(),
                                 g[kXk].data_ptr(),
                                 g[kXv].data_ptr(),
                                 g[kEta].data_ptr(),
                                 g[kLr].data_ptr(),
                                 g[g.size() - 2].data_ptr(),
                                 g[g.size() - 1].data_ptr()};
    const kernels::TttSequence seq = sequence_of(inputs);
    const bool cpu = dout.device().is_cpu();
    const Dtype dt = dout.dtype();
    if (mlp) {
      kernels::TttMlpGrads pg{
          g[kInner].data_ptr(), g[kInner + 1].data_ptr(), g[kInner + 2].data_ptr(), g[kInner + 3].data_ptr()};
      if (cpu)
        kernels::cpu::ttt_mlp_backward(dt, dims, seq, checkpoints.data_ptr(), dout.data_ptr(), sg, pg);
      else
        kernels::cuda::ttt_mlp_backward(dt, dims, seq, checkpoints.data_ptr(), dout.data_ptr(), sg, pg);
    } else {
      kernels::TttLinearGrads pg{g[kInner].data_ptr(), g[kInner + 1].data_ptr()};
      if (cpu)
        kernels::cpu::ttt_linear_backward(dt, dims, seq, checkpoints.data_ptr(), dout.data_ptr(), sg, pg);
      else
        kernels::cuda::ttt_linear_backward(dt, dims, seq, checkpoints.data_ptr(), dout.data_ptr(), sg, pg);
    }
    for (size_t i = 0; i < g.size(); ++i)
      if (!needs_input_grad(i)) g[i] = Tensor();
    return g;
  }
  std::string name() const override { return mlp ? "TttMlpBackward" : "TttLinearBackward"; }
};

Tensor sequence_forward(const char* op, bool mlp, const std::vector<Tensor>& in, const TttOptions& o) {
  const kernels::TttDims dims = check_sequence(op, mlp, in, o);
  const std::vector<Tensor> c = contiguous_all(in);
  const Tensor& xq = c[kXq];
  Tensor out = Tensor::empty(xq.shape(), xq.dtype(), xq.device());
  const bool need_grad = autograd::any_requires_grad(in);
  Tensor ckpt;
  if (need_grad) {
    const int64_t S = mlp ? dims.mlp_state_size() : dims.linear_state_size();
    const Dtype compute = xq.dtype() == Dtype::bf16 ? Dtype::f32 : xq.dtype();
    ckpt = Tensor::empty({dims.batch, dims.heads, dims.num_checkpoints(), S}, compute, xq.device());
  }
  void* ck = need_grad ? ckpt.data_ptr() : nullptr;
  const kernels::TttSequence seq = sequence_of(c);
  if (mlp) {
    kernels::TttMlpParams p{
        c[kInner].data_ptr(), c[kInner + 1].data_ptr(), c[kInner + 2].data_ptr(), c[kInner + 3].data_ptr()};
    if (xq.device().is_cpu())
      kernels::cpu::ttt_mlp_forward(xq.dtype(), dims, seq, p, out.data_ptr(), ck);
    else
      kernels::cuda::ttt_mlp_forward(xq.dtype(), dims, seq, p, out.data_ptr(), ck);
  } else {
    kernels::TttLinearParams p{c[kInner].data_ptr(), c[kInner + 1].data_ptr()};
    if (xq.device().is_cpu())
      kernels::cpu::ttt_linear_forward(xq.dtype(), dims, seq, p, out.data_ptr(), ck);
    else
      kernels::cuda::ttt_linear_forward(xq.dtype(), dims, seq, p, out.data_ptr(), ck);
  }
  if (need_grad) {
    auto node = std::make_shared<TttBackward>();
    node->mlp = mlp;
    node->dims = dims;
    node->inputs = c;
    node->checkpoints = ckpt;
    autograd::record(node, in, {out});
  }
  return out;
}

void check_no_grad(const char* op, const std::vector<Tensor>& in) {
  TTT_CHECK(!autograd::any_requires_grad(in),
            "[",
            op,
            "] has no backward; call it on tensors that do not require grad or under autograd::NoGradGuard");
}

Tensor sequence_primal(const char* op, bool mlp, const std::vector<Tensor>& in, const TttOptions& o) {
  const kernels::TttDims dims = check_sequence(op, mlp, in, o);
  TTT_CHECK(in[kXq].device().is_cpu(), "[", op, "] runs on the CPU only, got xq: ", in[kXq].describe());
  check_no_grad(op, in);
  const std::vector<Tensor> c = contiguous_all(in);
  Tensor out = Tensor::empty(c[kXq].shape(), c[kXq].dtype());
  if (mlp)
    kernels::cpu::ttt_mlp_primal_forward(
        c[kXq].dtype(),
        dims,
        sequence_of(c),
        {c[kInner].data_ptr(), c[kInner + 1].data_ptr(), c[kInner + 2].data_ptr(), c[kInner + 3].data_ptr()},
        out.data_ptr());
  else
    kernels::cpu::ttt_linear_primal_forward(c[kXq].dtype(),
                                            dims,
                                            sequence_of(c),
                                            {c[kInner].data_ptr(), c[kInner + 1].data_ptr()},
                                            out.data_ptr());
  return out;
}

// ---- decoding ----

// (batch, H, ...) copies of the (H, ...) initial parameters.
Tensor repeat_batch(const char* op, const char* name, const Tensor& p, int64_t batch) {
  TTT_CHECK(p.defined() && p.device().is_cpu() && dtype_is_float(p.dtype()),
            "[",
            op,
            "] ",
            name,
            " must be a floating CPU tensor, got ",
            p.defined() ? p.describe() : "undefined");
  Tensor c = contiguous_all({p})[0];
  Shape shape{batch};
  shape.insert(shape.end(), p.shape().begin(), p.shape().end());
  Tensor out = Tensor::empty(shape, p.dtype());
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(static_cast<char*>(out.data_ptr()) + b * c.nbytes(), c.data_ptr(), c.nbytes());
  return out;
}

// Validates one decoding token against the state's (B, H, D) and returns the kernel sizes.
kernels::TttDims check_token(const char* op,
                             const Tensor& w_state,
                             int64_t hidden,
                             const std::vector<Tensor>& in,
                             const TttOptions& o) {
  static constexpr const char* names[] = {"xq", "xk", "xv", "token_eta", "ttt_lr", "ln_weight", "ln_bias"};
  const std::string all = operands_of(in, names) + ", state: " + w_state.describe();
  for (size_t i = 0; i < in.size(); ++i) {
    TTT_CHECK(in[i].defined(), "[", op, "] ", names[i], " is undefined; ", all);
    TTT_CHECK(in[i].device().is_cpu(), "[", op, "] runs on the CPU only; got ", all);
    TTT_CHECK(in[i].dtype() == w_state.dtype(), "[", op, "] operands must have the state's dtype; got ", all);
  }
  TTT_CHECK(o.mini_batch >= 1, "[", op, "] options.mini_batch must be >= 1, got ", o.mini_batch);
  kernels::TttDims d;
  d.batch = w_state.size(0);
  d.heads = w_state.size(1);
  d.seq = 1;
  d.dim = in[kXq].ndim() == 3 ? in[kXq].size(2) : 0;
  d.hidden = hidden;
  d.mini_batch = o.mini_batch;
  d.layer_norm = o.layer_norm;
  d.residual = o.residual;
  check_shape(op, "xq", in[kXq], "(B, H, D)", {d.batch, d.heads, w_state.size(2)}, all);
  check_shape(op, "xk", in[kXk], "(B, H, D)", in[kXq].shape(), all);
  check_shape(op, "xv", in[kXv], "(B, H, D)", in[kXq].shape(), all);
  check_shape(op, "token_eta", in[kEta], "(mini_batch)", {o.mini_batch}, all);
  check_shape(op, "ttt_lr", in[kLr], "(B, H)", {d.batch, d.heads}, all);
  check_shape(op, "ln_weight", in[5], "(H, D)", {d.heads, d.dim}, all);
  check_shape(op, "ln_bias", in[6], "(H, D)", {d.heads, d.dim}, all);
  check_no_grad(op, in);
  return d;
}

}  // namespace

Tensor ttt_linear(const Tensor& xq,
                  const Tensor& xk,
                  const Tensor& xv,
                  const Tensor& token_eta,
                  const Tensor& ttt_lr,
                  const Tensor& w0,
                  const Tensor& b0,
                  const Tensor& ln_weight,
                  const Tensor& ln_bias,
                  const TttOptions& options) {
  return sequence_forward(
      "ttt_linear", false, {xq, xk, xv, token_eta, ttt_lr, w0, b0, ln_weight, ln_bias}, options);
}

Tensor ttt_mlp(const Tensor& xq,
               const Tensor& xk,
               const Tensor& xv,
               const Tensor& token_eta,
               const Tensor& ttt_lr,
               const Tensor& w1,
               const Tensor& b1,
               const Tensor& w2,
               const Tensor& b2,
               const Tensor& ln_weight,
               const Tensor& ln_bias,
               const TttOptions& options) {
  return sequence_forward(
      "ttt_mlp", true, {xq, xk, xv, token_eta, ttt_lr, w1, b1, w2, b2, ln_weight, ln_bias}, options);
}

Tensor ttt_linear_primal(const Tensor& xq,
                         const Tensor& xk,
                         const Tensor& xv,
                         const Tensor& token_eta,
                         const Tensor& ttt_lr,
                         const Tensor& w0,
                         const Tensor& b0,
                         const Tensor& ln_weight,
                         const Tensor& ln_bias,
                         const TttOptions& options) {
  return sequence_primal(
      "ttt_linear_primal", false, {xq, xk, xv, token_eta, ttt_lr, w0, b0, ln_weight, ln_bias}, options);
}

Tensor ttt_mlp_primal(const Tensor& xq,
                      const Tensor& xk,
                      const Tensor& xv,
                      const Tensor& token_eta,
                      const Tensor& ttt_lr,
                      const Tensor& w1,
                      const Tensor& b1,
                      const Tensor& w2,
                      const Tensor& b2,
                      const Tensor& ln_weight,
                      const Tensor& ln_bias,
                      const TttOptions& options) {
  return sequence_primal(
      "ttt_mlp_primal", true, {xq, xk, xv, token_eta, ttt_lr, w1, b1, w2, b2, ln_weight, ln_bias}, options);
}

TttLinearDecodeState ttt_linear_decode_init(const Tensor& w0, const Tensor& b0, int64_t batch) {
  const char* op = "ttt_linear_decode_init";
  TTT_CHECK(batch >= 1, "[", op, "] batch must be >= 1, got ", batch);
  TTT_CHECK(w0.defined() && b0.defined(), "[", op, "] w0 and b0 must be defined");
  TTT_CHECK(w0.ndim() == 3 && w0.size(1) == w0.size(2) && b0.shape() == Shape({w0.size(0), w0.size(1)}) &&
                b0.dtype() == w0.dtype(),
            "[",
            op,
            "] w0 must be (H, D, D) and b0 (H, D) of one dtype; got w0: ",
            w0.describe(),
            ", b0: ",
            b0.describe());
  TttLinearDecodeState s;
  s.w = repeat_batch(op, "w0", w0, batch);
  s.b = repeat_batch(op, "b0", b0, batch);
  s.grad_w = Tensor::zeros(s.w.shape(), w0.dtype());
  s.grad_b = Tensor::zeros(s.b.shape(), w0.dtype());
  return s;
}

TttMlpDecodeState ttt_mlp_decode_init(
    const Tensor& w1, const Tensor& b1, const Tensor& w2, const Tensor& b2, int64_t batch) {
  const char* op = "ttt_mlp_decode_init";
  TTT_CHECK(batch >= 1, "[", op, "] batch must be >= 1, got ", batch);
  TTT_CHECK(w1.defined() && b1.defined() && w2.defined() && b2.defined(),
            "[",
            op,
            "] w1, b1, w2 and b2 must be defined");
  const bool ok = w1.ndim() == 3 && b1.shape() == Shape({w1.size(0), w1.size(2)}) &&
                  w2.shape() == Shape({w1.size(0), w1.size(2), w1.size(1)}) &&
                  b2.shape() == Shape({w1.size(0), w1.size(1)}) && b1.dtype() == w1.dtype() &&
                  w2.dtype() == w1.dtype() && b2.dtype() == w1.dtype();
  TTT_CHECK(ok,
            "[",
            op,
            "] expected w1 (H, D, I), b1 (H, I), w2 (H, I, D), b2 (H, D) of one dtype; got w1: ",
            w1.describe(),
            ", b1: ",
            b1.describe(),
            ", w2: ",
            w2.describe(),
            ", b2: ",
            b2.describe());
  TttMlpDecodeState s;
  s.w1 = repeat_batch(op, "w1", w1, batch);
  s.b1 = repeat_batch(op, "b1", b1, batch);
  s.w2 = repeat_batch(op, "w2", w2, batch);
  s.b2 = repeat_batch(op, "b2", b2, batch);
  s.grad_w1 = Tensor::zeros(s.w1.shape(), w1.dtype());
  s.grad_b1 = Tensor::zeros(s.b1.shape(), w1.dtype());
  s.grad_w2 = Tensor::zeros(s.w2.shape(), w1.dtype());
  s.grad_b2 = Tensor::zeros(s.b2.shape(), w1.dtype());
  return s;
}

Tensor ttt_linear_decode_step(TttLinearDecodeState& state,
                              const Tensor& xq,
                              const Tensor& xk,
                              const Tensor& xv,
                              const Tensor& token_eta,
                              const Tensor& ttt_lr,
                              const Tensor& ln_weight,
                              const Tensor& ln_bias,
                              const TttOptions& options) {
  TTT_CHECK(state.w.defined(),
            "[ttt_linear_decode_step] the state is empty; make it with ttt_linear_decode_init");
  const kernels::TttDims d = check_token(
      "ttt_linear_decode_step", state.w, 0, {xq, xk, xv, token_eta, ttt_lr, ln_weight, ln_bias}, options);
  const std::vector<Tensor> c = contiguous_all({xq, xk, xv, token_eta, ttt_lr, ln_weight, ln_bias});
  kernels::TttSequence tok{c[0].data_ptr(),
                           c[1].data_ptr(),
                           c[2].data_ptr(),
                           c[3].data_ptr(),
                           c[4].data_ptr(),
                           c[5].data_ptr(),
                           c[6].data_ptr()};
  Tensor out = Tensor::empty(xq.shape(), xq.dtype());
  kernels::cpu::ttt_linear_decode_step(
      xq.dtype(),
      d,
      tok,
      state.position % d.mini_batch,
      {state.w.data_ptr(), state.b.data_ptr(), state.grad_w.data_ptr(), state.grad_b.data_ptr()},
      out.data_ptr());
  ++state.position;
  return out;
}

Tensor ttt_mlp_decode_step(TttMlpDecodeState& state,
                           const Tensor& xq,
                           const Tensor& xk,
                           const Tensor& xv,
                           const Tensor& token_eta,
                           const Tensor& ttt_lr,
                           const Tensor& ln_weight,
                           const Tensor& ln_bias,
                           const TttOptions& options) {
  TTT_CHECK(state.w1.defined(), "[ttt_mlp_decode_step] the state is empty; make it with ttt_mlp_decode_init");
  const kernels::TttDims d = check_token("ttt_mlp_decode_step",
                                         state.w1,
                                         state.w1.size(3),
                                         {xq, xk, xv, token_eta, ttt_lr, ln_weight, ln_bias},
                                         options);
  const std::vector<Tensor> c = contiguous_all({xq, xk, xv, token_eta, ttt_lr, ln_weight, ln_bias});
  kernels::TttSequence tok{c[0].data_ptr(),
                           c[1].data_ptr(),
                           c[2].data_ptr(),
                           c[3].data_ptr(),
                           c[4].data_ptr(),
                           c[5].data_ptr(),
                           c[6].data_ptr()};
  Tensor out = Tensor::empty(xq.shape(), xq.dtype());
  kernels::cpu::ttt_mlp_decode_step(xq.dtype(),
                                    d,
                                    tok,
                                    state.position % d.mini_batch,
                                    {state.w1.data_ptr(),
                                     state.b1.data_ptr(),
                                     state.w2.data_ptr(),
                                     state.b2.data_ptr(),
                                     state.grad_w1.data_ptr(),
                                     state.grad_b1.data_ptr(),
                                     state.grad_w2.data_ptr(),
                                     state.grad_b2.data_ptr()},
                                    out.data_ptr());
  ++state.position;
  return out;
}

}  // namespace tttlm::ops
