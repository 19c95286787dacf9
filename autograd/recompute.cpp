#include "autograd/recompute.h"

#include "autograd/engine.h"

namespace tttlm::autograd {

namespace {

struct RecomputeBackward final : Node {
  RegionFn fn;
  std::vector<Tensor> inputs;  // detached
  std::vector<bool> input_requires;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> fresh;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor t = inputs[i].defined() ? inputs[i].detach() : Tensor();
      if (t.defined() && input_requires[i]) t.set_requires_grad(true);
      fresh.push_back(t);
    }
    std::vector<Tensor> outs;
    {
      EnableGradGuard eg;
      outs = fn(fresh);
    }
    std::vector<Tensor> roots, root_grads;
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].requires_grad() && i < grads.size() && grads[i].defined()) {
        roots.push_back(outs[i]);
        root_grads.push_back(grads[i]);
      }
    if (!roots.empty()) backward(roots, root_grads);
    std::vector<Tensor> result;
    for (auto& t : fresh) result.push_back(t.defined() && t.requires_grad() ? t.grad() : Tensor());
    inputs.clear();
    return result;
  }
  std::string name() const override { return "RecomputeBackward"; }
};

}  // namespace

std::vector<Tensor> recompute(const RegionFn& fn, const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return fn(inputs);
  std::vector<Tensor> outs;
  {
    NoGradGuard ng;
    outs = fn(inputs);
  }
  auto node = std::make_shared<RecomputeBackward>();
  node->fn = fn;
  for (const auto& t : inputs) {
    node->inputs.push_back(t.defined() ? t.detach() : Tensor());
    node->input_requires.push_back(t.defined() && t.requires_grad());
  }
  for (auto& o : outs) {
    TTT_CHECK(dtype_is_float(o.dtype()), "[recompute] every output of a recomputed region must be floating, got ",
              o.describe());
    o = o.detach();
  }
  record(node, inputs, outs);
  return outs;
}

}  // namespace tttlm::autograd
