#include "layers/module.h"

#include <cmath>

#include "autograd/ops/copy.h"
#include "layers/low_precision.h"
#include "core/philox.h"

namespace tttlm::layers {

namespace {
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
}  // namespace

Parameter& Module::add_param(const std::string& local, Shape shape, InitSpec init, bool decay) {
  auto p = std::make_unique<Parameter>();
  p->name = local;
  p->local = local;
  p->shape = std::move(shape);
  p->init = init;
  p->decay = decay;
  params_.push_back(std::move(p));
  return *params_.back();
}

void Module::collect(const std::string& prefix, std::vector<Parameter*>& out) {
  for (auto& p : params_) {
    p->name = prefix + p->local;
    out.push_back(p.get());
  }
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  collect("", out);
  return out;
}

std::vector<const Parameter*> Module::parameters() const {
  auto ps = const_cast<Module*>(this)->parameters();
  return {ps.begin(), ps.end()};
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto* p : parameters()) n += shape_numel(p->shape);
  return n;
}

Tensor init_parameter(const Parameter& p, uint64_t seed) {
  const int64_t n = shape_numel(p.shape);
  std::vector<float> v(n);
  const uint64_t key = seed ^ fnv1a(p.name);
  const InitSpec& s = p.init;
  switch (s.kind) {
    case InitKind::constant:
      std::fill(v.begin(), v.end(), static_cast<float>(s.a));
      break;
    case InitKind::normal:
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(s.a * philox::normal(key, 0, i));
      break;
    case InitKind::trunc_normal:
      // Rejection: attempt j of element i uses Philox stream j (same values whatever the thread count).
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) {
        double z = 0;
        for (uint64_t j = 0; j < 1000; ++j) {
          z = philox::normal(key, 1 + j, i);
          if (std::abs(z) <= 2.0) break;
        }
        v[i] = static_cast<float>(s.a * z);
      }
      break;
    case InitKind::uniform:
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(s.a + (s.b - s.a) * philox::uniform(key, 0, i));
      break;
    case InitKind::mamba_dt_bias:
      for (int64_t i = 0; i < n; ++i) {
        double u = philox::uniform(key, 0, i);
        double dt = std::exp(u * (std::log(s.b) - std::log(s.a)) + std::log(s.a));
        dt = std::max(dt, s.c);
        v[i] = static_cast<float>(dt + std::log(-std::expm1(-dt)));  // inverse softplus
      }
      break;
    case InitKind::mamba_a_log: {
      int64_t cols = p.shape.back();
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::log(static_cast<double>(i % cols + 1)));
      break;
    }
  }
  return Tensor::from_vector(v, p.shape);
}

void Module::materialize(Device device, uint64_t seed) {
  for (Parameter* p : parameters()) {
    Tensor t = init_parameter(*p, seed);
    p->value = device.is_cpu() ? t : t.copy_to(device);
    p->value.set_requires_grad(true);
    p->value.autograd_meta().name = p->name;
  }
  refresh_bf16_copies(parameters());
}

void Module::to_device(Device device) {
  for (Parameter* p : parameters()) {
    if (!p->value.defined() || p->value.device() == device) continue;
    p->value = p->value.detach().copy_to(device);
    p->value.set_requires_grad(true);
    p->value.autograd_meta().name = p->name;
  }
  refresh_bf16_copies(parameters());
}

bool Module::is_materialized() const {
  for (const auto* p : parameters())
    if (!p->value.defined()) return false;
  return true;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (const auto* p : parameters()) out[p->name] = p->value;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source) {
  for (Parameter* p : parameters()) {
    auto it = state.find(p->name);
    TTT_CHECK(it != state.end(), "[load] ", source, ": missing tensor \"", p->name, "\" (expected shape ",
              shape_str(p->shape), ")");
    TTT_CHECK(it->second.shape() == p->shape, "[load] ", source, ": tensor \"", p->name, "\" has shape ",
              shape_str(it->second.shape()), ", expected ", shape_str(p->shape));
    TTT_CHECK(dtype_is_float(it->second.dtype()), "[load] ", source, ": tensor \"", p->name, "\" has dtype ",
              dtype_name(it->second.dtype()), "; weights must be f32, bf16 or f64 (integers are not converted)");
    Device dev = p->value.defined() ? p->value.device() : cpu_device();
    Tensor v = ops::cast(it->second, Dtype::f32);
    v = ops::contiguous(v).detach();
    // A fresh tensor on the target device is kept; the caller's own tensor, or one elsewhere, is copied.
    p->value = (v.same(it->second) || v.device() != dev) ? v.copy_to(dev) : v;
    p->value.set_requires_grad(true);
    p->value.autograd_meta().name = p->name;
  }
  if (state.size() != parameters().size()) {
    std::vector<Parameter*> ps = parameters();
    for (const auto& [name, t] : state) {
      bool found = false;
      for (auto* p : ps) found = found || p->name == name;
      TTT_CHECK(found, "[load] ", source, ": unexpected tensor \"", name, "\" ", t.describe(),
                " that this model does not have");
    }
  }
  refresh_bf16_copies(parameters());
}

}  // namespace tttlm::layers
