// The TTT sequence op for every inner model: checks, the fused dual-form forward (kernels/ttt.h) and its
// backward node. The operands travel as one list (ttt_operands.h): sequence operands, the inner
// parameters, the LN parameters, in the order of the autograd inputs and gradients.
#include "autograd/ops/ttt.h"

#include <memory>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/ttt_operands.h"
#include "kernels/dispatch.h"
#include "kernels/ttt.h"
#include "kernels/ttt_inner.h"

namespace tttlm::ops {

using namespace ttt_detail;

namespace {

struct TttBackward final : autograd::Node {
  kernels::TttDims dims;  // dims.inner: the inner model
  TttOperands inputs;     // contiguous copies, in operand order
  Tensor snapshots;       // (B, H, num_snapshots, state_size)
  std::string node_name;

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dout = contiguous(grad_or_zeros(grads, 0)).detach();
    std::vector<Tensor> g;
    for (const Tensor& t : inputs) g.push_back(Tensor::empty(t.shape(), t.dtype(), t.device()));
    kernels::TttSequenceGrads sg{g[kXq].data_ptr(),         g[kXk].data_ptr(), g[kXv].data_ptr(),
                                 g[kEta].data_ptr(),        g[kLr].data_ptr(), g[g.size() - 2].data_ptr(),
                                 g[g.size() - 1].data_ptr()};
    kernels::TttInnerGrads pg;
    for (size_t i = kInner; i + 2 < g.size(); ++i) pg.p[i - kInner] = g[i].data_ptr();
    const kernels::TttSequence seq = sequence_of(inputs);
    TTT_DISPATCH(dout.device(), ttt_backward, dout.dtype(), dims, seq, snapshots.data_ptr(), dout.data_ptr(), sg, pg);
    for (size_t i = 0; i < g.size(); ++i)
      if (!needs_input_grad(i)) g[i] = Tensor();
    return g;
  }
  std::string name() const override { return node_name; }
};

}  // namespace

Tensor ttt(const TttSequenceInputs& seq, const TttInner& inner, const TttOptions& options) {
  const std::string op = op_name(inner.model);
  const TttOperands in = operands_of(seq, inner.params);
  const kernels::TttDims dims = check_sequence(op.c_str(), inner.model, in, options);
  const TttOperands c = contiguous_all(in);
  const Tensor& xq = c[kXq];
  Tensor out = Tensor::empty(xq.shape(), xq.dtype(), xq.device());
  const bool need_grad = autograd::any_requires_grad(in);
  Tensor ckpt;
  if (need_grad) {
    const Dtype compute = xq.dtype() == Dtype::bf16 ? Dtype::f32 : xq.dtype();
    ckpt = Tensor::empty({dims.batch, dims.heads, dims.num_snapshots(), state_size(dims)}, compute, xq.device());
  }
  void* ck = need_grad ? ckpt.data_ptr() : nullptr;
  const kernels::TttSequence s = sequence_of(c);
  const kernels::TttInnerParams p = inner_params_of(c);
  TTT_DISPATCH(xq.device(), ttt_forward, xq.dtype(), dims, s, p, out.data_ptr(), ck);
  if (need_grad) {
    auto node = std::make_shared<TttBackward>();
    node->dims = dims;
    node->inputs = c;
    node->snapshots = ckpt;
    node->node_name = kernels::with_inner_model(inner.model, [](auto m) { return std::string(decltype(m)::kNode); });
    autograd::record(node, in, {out});
  }
  return out;
}

}  // namespace tttlm::ops
