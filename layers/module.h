// Module: a tree of named parameters (PyTorch-style dotted names: "layers.3.seq_modeling_block.wq.weight").
// Construction only declares parameters (name, shape, init rule, weight-decay flag); materialize()
// allocates and initialises them, so a 1.3B model can be described (parameter count, FLOPs, memory)
// without allocating it. Initial values are drawn on the CPU from Philox keyed by (seed, name), so they
// do not depend on construction order, thread count or device.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tttlm::layers {

enum class InitKind {
  normal,         // N(0, a)
  trunc_normal,   // N(0, a) truncated to ±2a (flax lecun_normal-style convs: docs/spec/ttt.md §5)
  uniform,        // U(a, b)
  constant,       // a
  mamba_dt_bias,  // inverse softplus of log-uniform dt in [a, b] with floor (docs/spec/mamba.md §7); c = floor
  mamba_a_log,    // A_log[c, n] = ln(n + 1) (docs/spec/mamba.md §7)
};

struct InitSpec {
  InitKind kind = InitKind::constant;
  double a = 0, b = 0, c = 0;
  static InitSpec normal(double std) { return {InitKind::normal, std}; }
  static InitSpec trunc_normal(double std) { return {InitKind::trunc_normal, std}; }
  static InitSpec uniform(double lo, double hi) { return {InitKind::uniform, lo, hi}; }
  static InitSpec constant(double v) { return {InitKind::constant, v}; }
  static InitSpec zeros() { return constant(0.0); }
  static InitSpec ones() { return constant(1.0); }
};

struct Parameter {
  std::string name;   // full dotted name (set by Module::parameters())
  std::string local;  // name inside its module
  Shape shape;
  InitSpec init;
  bool decay = true;  // in the weight-decay group
  Tensor value;       // undefined until materialize()
  // A weight that matrix products read (Linear weights, the tied embedding as LM head): in bf16 training
  // it has a bf16 copy, value_bf16, which layers/low_precision.h keeps equal to bf16(value).
  bool matmul_weight = false;
  Tensor value_bf16;  // undefined in f32 training
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, depth-first in declaration order.
  std::vector<Parameter*> parameters();
  std::vector<const Parameter*> parameters() const;
  int64_t num_parameters() const;
  // Allocates and initialises every parameter (on the CPU, then copied to `device`).
  void materialize(Device device, uint64_t seed);
  bool is_materialized() const;
  // Moves every parameter to `device`
  // (keeping requires_grad and names, and refreshing any bf16 copies).
  void to_device(Device device);
  // name -> tensor, for checkpoints and export.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in (shapes must match; every parameter must be present); errors name the key. Refreshes
  // any bf16 copies.
  void load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source);

 protected:
  // Declares a parameter; `local` is the name inside this module.
  Parameter& add_param(const std::string& local, Shape shape, InitSpec init, bool decay = true);
  template <class M>
  M& add_module(const std::string& local, std::unique_ptr<M> m) {
    M& ref = *m;
    children_.emplace_back(local, std::move(m));
    return ref;
  }

 private:
  void collect(const std::string& prefix, std::vector<Parameter*>& out);
  std::vector<std::unique_ptr<Parameter>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// Deterministic host-side fill of one parameter (exposed for tests).
Tensor init_parameter(const Parameter& p, uint64_t seed);

}  // namespace tttlm::layers
