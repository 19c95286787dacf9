#include "autograd/engine.h"

#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "core/error.h"

namespace tttlm::autograd {

namespace {
thread_local bool g_grad_enabled = true;
std::atomic<uint64_t> g_sequence{0};
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool enabled) { g_grad_enabled = enabled; }

Tensor Node::grad_or_zeros(const std::vector<Tensor>& grads, size_t i) const {
  if (i < grads.size() && grads[i].defined()) return grads[i];
  const OutputMeta& m = outputs.at(i);
  return Tensor::zeros(m.shape, m.dtype, m.device);
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  auto impl = leaf.lock();
  if (!impl || grads.empty() || !grads[0].defined()) return {};
  Tensor t(impl);
  Tensor g = grads[0];
  TTT_CHECK(g.shape() == t.shape(), "[backward] gradient of shape ", shape_str(g.shape()), " for leaf ",
            impl->autograd.name, " of shape ", shape_str(t.shape()));
  NoGradGuard no_grad;
  if (!t.grad().defined()) {
    t.set_grad(ops::clone(g));
  } else {
    ops::add_(t.grad(), g);
  }
  return {};
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge edge_of(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  AutogradMeta& m = t.autograd_meta();
  if (m.grad_fn) return {m.grad_fn, m.output_nr};
  auto acc = m.grad_accumulator.lock();
  if (!acc) {
    auto node = std::make_shared<AccumulateGrad>();
    node->leaf = t.impl_ptr();
    node->outputs.push_back({t.shape(), t.dtype(), t.device()});
    node->sequence_nr = g_sequence++;
    m.grad_accumulator = node;
    acc = node;
  }
  return {acc, 0};
}

void record(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) {
  node->sequence_nr = g_sequence++;
  node->next.clear();
  for (const auto& t : inputs) node->next.push_back(edge_of(t));
  node->outputs.clear();
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    const Tensor& o = outputs[i];
    node->outputs.push_back({o.shape(), o.dtype(), o.device()});
    AutogradMeta& m = o.autograd_meta();
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = i;
  }
}

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads) {
  TTT_CHECK(grads.empty() || grads.size() == roots.size(), "[backward] ", grads.size(), " gradients given for ",
            roots.size(), " roots");
  // Seed buffers.
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep;
  std::vector<std::shared_ptr<Node>> start;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    TTT_CHECK(r.requires_grad(), "[backward] root ", i, " (", r.describe(),
              ") does not require grad: nothing it depends on is a parameter or input with requires_grad");
    Tensor g = grads.empty() ? Tensor() : grads[i];
    if (!g.defined()) {
      TTT_CHECK(r.numel() == 1, "[backward] an implicit gradient of ones needs a one-element root, got ", r.describe());
      g = Tensor::full(r.shape(), 1.0, r.dtype(), r.device());
    }
    TTT_CHECK(g.shape() == r.shape(), "[backward] gradient ", g.describe(), " for root ", r.describe());
    Edge e = edge_of(r);
    auto& buf = buffers[e.node.get()];
    if (buf.empty()) buf.resize(e.node->outputs.size());
    NoGradGuard ng;
    buf[e.input_nr] = buf[e.input_nr].defined() ? ops::add(buf[e.input_nr], g) : g;
    if (!keep.count(e.node.get())) start.push_back(e.node);
    keep[e.node.get()] = e.node;
  }
  // Count dependencies: how many edges point at each node from the reachable graph.
  std::unordered_map<Node*, int> deps;
  {
    std::vector<Node*> stack;
    std::unordered_set<Node*> seen;
    for (auto& n : start)
      if (seen.insert(n.get()).second) stack.push_back(n.get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (auto& e : n->next) {
        if (!e.valid()) continue;
        deps[e.node.get()]++;
        if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
      }
    }
  }
  std::vector<std::shared_ptr<Node>> ready;
  for (auto& n : start)
    if (deps[n.get()] == 0) ready.push_back(n);
  NoGradGuard no_grad;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.back();
    ready.pop_back();
    std::vector<Tensor> in = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    in.resize(node->outputs.size());
    TTT_CHECK(!node->released, "[backward] the graph through ", node->name(),
              " was already used by a backward pass; run the forward again");
    node->released = !dynamic_cast<AccumulateGrad*>(node.get());
    std::vector<Tensor> out = node->apply(std::move(in));
    if (auto* acc = dynamic_cast<AccumulateGrad*>(node.get())) {
      if (auto impl = acc->leaf.lock(); impl && impl->autograd.grad_ready_hook)
        impl->autograd.grad_ready_hook(Tensor(impl));
    }
    std::vector<Edge> next = std::move(node->next);
    TTT_CHECK(out.size() <= next.size() || next.empty(), "[backward] node ", node->name(), " returned ", out.size(),
              " gradients for ", next.size(), " inputs");
    for (size_t i = 0; i < next.size(); ++i) {
      const Edge& e = next[i];
      if (!e.valid()) continue;
      Node* target = e.node.get();
      if (i < out.size() && out[i].defined()) {
        auto& buf = buffers[target];
        if (buf.empty()) buf.resize(target->outputs.size());
        Tensor& slot = buf[e.input_nr];
        slot = slot.defined() ? ops::add(slot, out[i]) : out[i];
      }
      if (--deps[target] == 0) ready.push_back(e.node);
    }
  }
}

}  // namespace tttlm::autograd
