// The tape: every differentiable op that ran with grad enabled leaves one Node. A Node holds what its
// backward needs (saved tensors are always detach()ed copies, so a node never owns its own outputs and no
// reference cycle forms) and one Edge per differentiable input, pointing at the producer of that input
// (its grad_fn, or the AccumulateGrad node of a leaf).
//
// Convention (tiny-cuda-nn's context, flashlight's gradFunc): apply() receives one gradient per output of
// the op (an undefined Tensor where none reached that output; use grad_or_zeros) and returns one gradient
// per input edge (undefined where the input needs none). Returned gradients may alias other tensors; the
// engine never writes into them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tttlm::autograd {

struct Node;

struct Edge {
  std::shared_ptr<Node> node;  // null when the input needs no gradient
  uint32_t input_nr = 0;       // which output of `node` the input was
  bool valid() const { return node != nullptr; }
};

struct OutputMeta {
  Shape shape;
  Dtype dtype = Dtype::f32;
  Device device;
};

struct Node : std::enable_shared_from_this<Node> {
  virtual ~Node() = default;
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) = 0;
  virtual std::string name() const = 0;

  // A zero gradient shaped like output i when grads[i] is undefined.
  Tensor grad_or_zeros(const std::vector<Tensor>& grads, size_t i) const;
  // Whether input edge i wants a gradient (skip computing it when not).
  bool needs_input_grad(size_t i) const { return i < next.size() && next[i].valid(); }

  std::vector<Edge> next;
  std::vector<OutputMeta> outputs;
  uint64_t sequence_nr = 0;
  bool released = false;  // set once backward has run through this node
};

// The sink for a leaf: adds the incoming gradient into the leaf's grad (allocating it on first use), then
// calls the leaf's grad_ready_hook, if any, once the engine has delivered all of its contributions.
struct AccumulateGrad final : Node {
  std::weak_ptr<TensorImpl> leaf;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
};

}  // namespace tttlm::autograd
