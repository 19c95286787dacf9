// Token-by-token TTT decoding (docs/spec/ttt.md §3.11) for every inner model: the decoding state (the inner
// state of the current mini-batch and its accumulated gradients, one (B, H, ...) tensor per inner
// parameter), its checks, and one step (kernels::cpu::ttt_decode_step). CPU only, no gradient.
#include <cstring>
#include <string>
#include <vector>

#include "autograd/ops/ttt.h"
#include "autograd/ops/ttt_operands.h"
#include "kernels/ttt_inner.h"

namespace tttlm::ops {

using namespace ttt_detail;

namespace {

// (batch, H, ...) copies of the (H, ...) initial parameters.
Tensor repeat_batch(const char* op, const std::string& name, const Tensor& p, int64_t batch) {
  TTT_CHECK(p.defined() && p.device().is_cpu() && dtype_is_float(p.dtype()), "[", op, "] ", name,
            " must be a floating CPU tensor, got ", p.defined() ? p.describe() : "undefined");
  Tensor c = contiguous_all({p})[0];
  Shape shape{batch};
  shape.insert(shape.end(), p.shape().begin(), p.shape().end());
  Tensor out = Tensor::empty(shape, p.dtype());
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(static_cast<char*>(out.data_ptr()) + b * c.nbytes(), c.data_ptr(), c.nbytes());
  return out;
}

// Validates one decoding token against the state's (B, H, D) (the first inner parameter is (B, H, D, ...))
// and returns the kernel sizes.
kernels::TttDims check_token(const char* op, const TttDecodeState& state, const TttOperands& in, const TttOptions& o) {
  static const std::vector<std::string> names = {"xq", "xk", "xv", "token_eta", "ttt_lr", "ln_weight", "ln_bias"};
  const Tensor& w_state = state.params[0];
  const std::string all = describe(names, in) + ", state: " + w_state.describe();
  for (size_t i = 0; i < in.size(); ++i) {
    TTT_CHECK(in[i].defined(), "[", op, "] ", names[i], " is undefined; ", all);
    TTT_CHECK(in[i].device().is_cpu(), "[", op, "] runs on the CPU only; got ", all);
    TTT_CHECK(in[i].dtype() == w_state.dtype(), "[", op, "] operands must have the state's dtype; got ", all);
  }
  TTT_CHECK(o.mini_batch >= 1, "[", op, "] options.mini_batch must be >= 1, got ", o.mini_batch);
  kernels::TttDims d;
  d.inner = state.model;
  d.batch = w_state.size(0);
  d.heads = w_state.size(1);
  d.seq = 1;
  d.dim = in[kXq].ndim() == 3 ? in[kXq].size(2) : 0;
  d.hidden = hidden_of(state.model, state.params, 1);
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

TttDecodeState ttt_decode_init(const TttInner& inner, int64_t batch) {
  const std::string name = op_name(inner.model, "_decode_init");
  const char* op = name.c_str();
  TTT_CHECK(batch >= 1, "[", op, "] batch must be >= 1, got ", batch);
  const std::vector<Tensor>& p = inner.params;
  TttDecodeState s;
  s.model = inner.model;
  kernels::with_inner_model(inner.model, [&](auto model) {
    using Inner = decltype(model);
    using kernels::ttt_dual::ParamSpec;
    std::string list, want, got;  // "w0 and b0", "w0 (H, D, D), b0 (H, D)", "w0: f64 (2, 4, 4), ..."
    for (int i = 0; i < Inner::kNumParams; ++i) {
      const ParamSpec ps = Inner::param(i);
      list += std::string(i == 0 ? "" : i + 1 == Inner::kNumParams ? " and " : ", ") + ps.name;
      want += std::string(i ? ", " : "") + ps.name + " " + letters_of(ps);
    }
    TTT_CHECK(static_cast<int>(p.size()) == Inner::kNumParams, "[", op, "] takes ", Inner::kNumParams,
              " inner parameters (", list, "), got ", p.size());
    bool ok = true;
    for (int i = 0; i < Inner::kNumParams; ++i) {
      ok = ok && p[i].defined();
      got +=
          std::string(i ? ", " : "") + Inner::param(i).name + ": " + (p[i].defined() ? p[i].describe() : "undefined");
    }
    TTT_CHECK(ok, "[", op, "] ", list, " must be defined");
    // The first parameter is (H, D, ...); the others must match it, the hidden width, and its dtype.
    const int64_t H = p[0].ndim() >= 2 ? p[0].size(0) : -1, D = p[0].ndim() >= 2 ? p[0].size(1) : -1;
    const int64_t I = hidden_of(inner.model, p, 0);
    for (int i = 0; i < Inner::kNumParams; ++i) {
      const ParamSpec ps = Inner::param(i);
      Shape shape;
      for (int a = 0; a < ps.rank; ++a) shape.push_back(kernels::ttt_dual::axis_size(ps.axes[a], H, D, I));
      ok = ok && p[i].shape() == shape && p[i].dtype() == p[0].dtype();
    }
    TTT_CHECK(ok, "[", op, "] expected ", want, " of one dtype; got ", got);
    for (int i = 0; i < Inner::kNumParams; ++i) {
      s.params.push_back(repeat_batch(op, Inner::param(i).name, p[i], batch));
      s.grads.push_back(Tensor::zeros(s.params.back().shape(), p[0].dtype()));
    }
  });
  return s;
}

Tensor ttt_decode_step(TttDecodeState& state, const TttSequenceInputs& token, const TttOptions& options) {
  TTT_CHECK(!state.params.empty() && state.params[0].defined(),
            "[ttt_decode_step] the state is empty; make it with ttt_decode_init");
  const std::string name = op_name(state.model, "_decode_step");
  const TttOperands in{token.xq, token.xk, token.xv, token.token_eta, token.ttt_lr, token.ln_weight, token.ln_bias};
  const kernels::TttDims d = check_token(name.c_str(), state, in, options);
  const TttOperands c = contiguous_all(in);
  kernels::TttSequence tok{c[0].data_ptr(), c[1].data_ptr(), c[2].data_ptr(), c[3].data_ptr(),
                           c[4].data_ptr(), c[5].data_ptr(), c[6].data_ptr()};
  kernels::TttDecodeBuffers buffers;
  for (size_t i = 0; i < state.params.size() && i < static_cast<size_t>(kernels::kMaxInnerParams); ++i) {
    buffers.state[i] = state.params[i].data_ptr();
    buffers.grad[i] = state.grads[i].data_ptr();
  }
  Tensor out = Tensor::empty(token.xq.shape(), token.xq.dtype());
  kernels::cpu::ttt_decode_step(token.xq.dtype(), d, tok, state.position % d.mini_batch, buffers, out.data_ptr());
  ++state.position;
  return out;
}

}  // namespace tttlm::ops
