// The TTT ops' operand list and checks (see ttt_operands.h). What depends on the inner model (its
// parameters' names and shapes) comes from its traits type (kernels/ttt_inner.h).
#include "autograd/ops/ttt_operands.h"

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "kernels/ttt_inner.h"

namespace tttlm::ops::ttt_detail {

using kernels::with_inner_model;
using kernels::ttt_dual::Axis;
using kernels::ttt_dual::ParamSpec;

namespace {

const char* const kSequenceNames[] = {"xq", "xk", "xv", "token_eta", "ttt_lr"};

}  // namespace

std::string letters_of(const ParamSpec& p) {
  std::string s = "(";
  for (int a = 0; a < p.rank; ++a) s += std::string(a ? ", " : "") + "HDI"[static_cast<int>(p.axes[a])];
  return s + ")";
}

TttOperands operands_of(const TttSequenceInputs& seq, const std::vector<Tensor>& params) {
  TttOperands in{seq.xq, seq.xk, seq.xv, seq.token_eta, seq.ttt_lr};
  in.insert(in.end(), params.begin(), params.end());
  in.push_back(seq.ln_weight);
  in.push_back(seq.ln_bias);
  return in;
}

std::string op_name(InnerModel model, const char* suffix) {
  return with_inner_model(model, [&](auto inner) { return std::string(decltype(inner)::kOp) + suffix; });
}

std::vector<std::string> operand_names(InnerModel model) {
  std::vector<std::string> names(kSequenceNames, kSequenceNames + kInner);
  with_inner_model(model, [&](auto inner) {
    for (int i = 0; i < decltype(inner)::kNumParams; ++i) names.push_back(decltype(inner)::param(i).name);
  });
  names.push_back("ln_weight");
  names.push_back("ln_bias");
  return names;
}

std::string describe(const std::vector<std::string>& names, const TttOperands& in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i)
    s += std::string(i ? ", " : "") + (i < names.size() ? names[i] : "?") + ": " +
         (in[i].defined() ? in[i].describe() : "undefined");
  return s;
}

void check_shape(const char* op, const char* name, const Tensor& t, const std::string& letters, const Shape& want,
                 const std::string& all) {
  TTT_CHECK(t.shape() == want, "[", op, "] ", name, " must have shape ", letters, " = ", shape_str(want), ", got ",
            shape_str(t.shape()), "; operands: ", all);
}

int64_t hidden_of(InnerModel model, const std::vector<Tensor>& params, int lead) {
  return with_inner_model(model, [&](auto inner) -> int64_t {
    using Inner = decltype(inner);
    for (int i = 0; i < Inner::kNumParams && i < static_cast<int>(params.size()); ++i) {
      const ParamSpec p = Inner::param(i);
      for (int a = 1; a < p.rank; ++a)
        if (p.axes[a] == Axis::I)
          return params[i].defined() && params[i].ndim() == p.rank + lead ? params[i].size(a + lead) : 0;
    }
    return 0;
  });
}

kernels::TttDims check_sequence(const char* op, InnerModel model, const TttOperands& in, const TttOptions& o) {
  const std::vector<std::string> names = operand_names(model);
  const std::string all = describe(names, in);
  const int n_inner = with_inner_model(model, [](auto inner) { return decltype(inner)::kNumParams; });
  TTT_CHECK(in.size() == kInner + n_inner + 2, "[", op, "] takes ", n_inner, " inner parameters, got ",
            static_cast<int64_t>(in.size()) - static_cast<int64_t>(kInner) - 2, "; operands: ", all);
  for (size_t i = 0; i < in.size(); ++i) TTT_CHECK(in[i].defined(), "[", op, "] ", names[i], " is undefined; ", all);
  for (size_t i = 0; i < in.size(); ++i) {
    TTT_CHECK(in[i].device() == in[0].device(), "[", op, "] operands must be on one device; got ", all);
    TTT_CHECK(in[i].dtype() == in[0].dtype(), "[", op, "] operands must have one dtype; got ", all);
  }
  TTT_CHECK(dtype_is_float(in[0].dtype()), "[", op, "] operands must be floating tensors; got ", all);
  TTT_CHECK(o.mini_batch >= 1 && o.snapshot_every >= 1, "[", op,
            "] options.mini_batch and options.snapshot_every must be >= 1, got ", o.mini_batch, " and ",
            o.snapshot_every);
  const Tensor& xq = in[kXq];
  TTT_CHECK(xq.ndim() == 4, "[", op, "] xq must have shape (B, H, T, D), got ", shape_str(xq.shape()),
            "; operands: ", all);
  kernels::TttDims d;
  d.inner = model;
  d.batch = xq.size(0);
  d.heads = xq.size(1);
  d.seq = xq.size(2);
  d.dim = xq.size(3);
  d.mini_batch = o.mini_batch;
  d.snapshot_every = o.snapshot_every;
  d.layer_norm = o.layer_norm;
  d.residual = o.residual;
  const int64_t B = d.batch, H = d.heads, T = d.seq, D = d.dim;
  check_shape(op, "xk", in[kXk], "(B, H, T, D)", xq.shape(), all);
  check_shape(op, "xv", in[kXv], "(B, H, T, D)", xq.shape(), all);
  check_shape(op, "token_eta", in[kEta], "(mini_batch)", {o.mini_batch}, all);
  check_shape(op, "ttt_lr", in[kLr], "(B, H, T)", {B, H, T}, all);
  with_inner_model(model, [&](auto inner) {
    using Inner = decltype(inner);
    const std::vector<Tensor> params(in.begin() + kInner, in.begin() + kInner + Inner::kNumParams);
    for (int i = 0; i < Inner::kNumParams; ++i) {
      const ParamSpec p = Inner::param(i);
      bool has_hidden = false;
      for (int a = 1; a < p.rank; ++a) has_hidden |= p.axes[a] == Axis::I;
      if (has_hidden && d.hidden == 0) {  // the first parameter with the hidden axis sets I
        d.hidden = hidden_of(model, params, 0);
        TTT_CHECK(d.hidden >= 1, "[", op, "] ", p.name, " must have shape ", letters_of(p), " with I >= 1, got ",
                  shape_str(params[i].shape()), "; operands: ", all);
      }
      Shape want;
      for (int a = 0; a < p.rank; ++a) want.push_back(kernels::ttt_dual::axis_size(p.axes[a], H, D, d.hidden));
      check_shape(op, p.name, params[i], letters_of(p), want, all);
    }
  });
  check_shape(op, "ln_weight", in[in.size() - 2], "(H, D)", {H, D}, all);
  check_shape(op, "ln_bias", in[in.size() - 1], "(H, D)", {H, D}, all);
  return d;
}

int64_t state_size(const kernels::TttDims& dims) {
  return with_inner_model(
      dims.inner, [&](auto inner) { return kernels::ttt_dual::state_size<decltype(inner)>(dims.dim, dims.hidden); });
}

void check_no_grad(const char* op, const TttOperands& in) {
  TTT_CHECK(!autograd::any_requires_grad(in), "[", op,
            "] has no backward; call it on tensors that do not require grad or under autograd::NoGradGuard");
}

TttOperands contiguous_all(const TttOperands& in) {
  autograd::NoGradGuard ng;
  TttOperands out;
  for (const Tensor& t : in) out.push_back(contiguous(t.detach()).detach());
  return out;
}

kernels::TttSequence sequence_of(const TttOperands& c) {
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

kernels::TttInnerParams inner_params_of(const TttOperands& c) {
  kernels::TttInnerParams p;
  for (size_t i = kInner; i + 2 < c.size() && i - kInner < kernels::kMaxInnerParams; ++i)
    p.p[i - kInner] = c[i].data_ptr();
  return p;
}

}  // namespace tttlm::ops::ttt_detail
