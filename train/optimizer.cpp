#include "train/optimizer.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/adamw.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"

namespace tttlm::train {

AdamW::AdamW(std::vector<layers::Parameter*> params, const OptimizerConfig& config, std::vector<bool> owned)
    : params_(std::move(params)), owned_(std::move(owned)), config_(config) {
  if (owned_.empty()) owned_.assign(params_.size(), true);
  TTT_CHECK(owned_.size() == params_.size(), "[AdamW] ", owned_.size(), " ownership flags for ", params_.size(),
            " parameters");
  for (size_t i = 0; i < params_.size(); ++i) {
    auto* p = params_[i];
    TTT_CHECK(p->value.defined(), "[AdamW] parameter ", p->name, " is not materialised");
    m_.push_back(owned_[i] ? Tensor::zeros(p->shape, Dtype::f32, p->value.device()) : Tensor());
    v_.push_back(owned_[i] ? Tensor::zeros(p->shape, Dtype::f32, p->value.device()) : Tensor());
  }
}

int64_t AdamW::state_numel() const {
  int64_t n = 0;
  for (size_t i = 0; i < params_.size(); ++i)
    if (owned_[i]) n += 2 * m_[i].numel();
  return n;
}

// The per-tensor sums of squares are added up in f64 on the parameters' device and read once: one device
// sync per step, not one per tensor (same values, same order as summing the f32 partials on the host).
double AdamW::grad_norm() const {
  autograd::NoGradGuard ng;
  Tensor total;
  for (auto* p : params_) {
    Tensor g = p->value.grad();
    if (!g.defined()) continue;
    Tensor part = ops::cast(ops::sum(ops::mul(g, g)), Dtype::f64);
    total = total.defined() ? ops::add(total, part) : part;
  }
  return total.defined() ? std::sqrt(total.item()) : 0.0;
}

double AdamW::clip_grad_norm(double max_norm) {
  double norm = grad_norm();
  if (max_norm > 0 && norm > max_norm) {
    // optax clip_by_global_norm: g * max_norm / norm
    double scale = max_norm / norm;
    for (auto* p : params_)
      if (p->value.grad().defined()) ops::scale_(p->value.grad(), scale);
  }
  return norm;
}

void AdamW::step(double lr) {
  ++count_;
  autograd::NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!owned_[i]) continue;
    auto* p = params_[i];
    Tensor g = p->value.grad();
    if (!g.defined()) g = Tensor::zeros(p->shape, Dtype::f32, p->value.device());
    ops::AdamWHyper h{lr, config_.beta1, config_.beta2, config_.eps, p->decay ? config_.weight_decay : 0.0};
    ops::adamw_update(p->value, g, m_[i], v_[i], h, count_);
  }
}

void AdamW::zero_grad() {
  for (auto* p : params_) p->value.set_grad(Tensor());
}

std::map<std::string, Tensor> AdamW::state_dict() const {
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!owned_[i]) continue;
    out[params_[i]->name + ".m"] = m_[i];
    out[params_[i]->name + ".v"] = v_[i];
  }
  return out;
}

void AdamW::load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source) {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!owned_[i]) continue;
    for (auto [suffix, dst] : {std::pair<const char*, Tensor*>{".m", &m_[i]}, {".v", &v_[i]}}) {
      auto it = state.find(params_[i]->name + suffix);
      TTT_CHECK(it != state.end(), "[load] ", source, ": missing optimizer tensor \"", params_[i]->name + suffix, "\"");
      TTT_CHECK(it->second.shape() == params_[i]->shape && it->second.dtype() == Dtype::f32, "[load] ", source,
                ": optimizer tensor \"", params_[i]->name + suffix, "\" is ", it->second.describe(), ", expected f32 ",
                shape_str(params_[i]->shape));
      Device dev = params_[i]->value.device();
      *dst = dev.is_cpu() ? it->second : it->second.copy_to(dev);
    }
  }
}

}  // namespace tttlm::train
