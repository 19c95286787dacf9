// Backward engine, grad mode and the glue that ops use to record nodes.
//
// backward(roots, grads) walks the graph from the roots, counting dependencies first, so every node runs
// exactly once after all the gradients of its outputs have arrived; gradients arriving at one node from
// several consumers are summed in a fixed order (deterministic). Leaves receive `+=` into their grad.
// The graph is freed as the walk proceeds (nodes drop their saved tensors); a second backward through the
// same graph is an error naming the node.
#pragma once

#include <memory>
#include <vector>

#include "autograd/node.h"
#include "core/tensor.h"

namespace tttlm::autograd {

// Thread-local switch; ops record nodes only when enabled.
bool grad_enabled();
void set_grad_enabled(bool enabled);

// RAII: disables recording in a scope (evaluation, optimizer updates, recompute's forward).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// Runs backward from `roots`. `grads` must have one entry per root; an undefined entry means ones (only
// allowed for a root with one element, such as a loss).
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads = {});
inline void backward(const Tensor& root) { backward(std::vector<Tensor>{root}); }

// ---- for ops ----

// True when grad mode is on and any of the inputs requires grad.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Sets node->next from `inputs` (undefined or non-requiring inputs give empty edges), records the outputs'
// metadata, and makes each output's grad_fn this node. Call only when any_requires_grad(inputs).
void record(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs);

// The edge that gradients of `t` flow into (creating a leaf's AccumulateGrad node on first use).
Edge edge_of(const Tensor& t);

}  // namespace tttlm::autograd
