// AdamW exactly as optax.adamw in the official recipe (docs/spec/ttt.md §7): moments in f32, bias correction with
// the 1-based update count, decoupled weight decay on the parameters whose `decay` flag is set (every
// parameter in the TTT code; all but A_log and D in Mamba by default), after clipping by the global norm.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "train/run_config.h"

namespace tttlm::train {

class AdamW {
 public:
  // `owned` (one flag per parameter, empty = all): with ZeRO-1 a rank keeps moments and updates only the
  // parameters it owns; the others are skipped by step(), state_dict() and load_state_dict().
  AdamW(std::vector<layers::Parameter*> params, const OptimizerConfig& config, std::vector<bool> owned = {});
  // Global L2 norm of all gradients (missing gradients count as zero), computed in double in parameter order.
  double grad_norm() const;
  // Scales gradients so their global norm is at most max_norm (no-op when max_norm <= 0 or already below).
  // Returns the norm before clipping.
  double clip_grad_norm(double max_norm);
  // One update with learning rate lr; count is the number of updates done before this one.
  void step(double lr);
  void zero_grad();
  int64_t count() const { return count_; }
  void set_count(int64_t c) { count_ = c; }

  bool owns(size_t i) const { return owned_[i]; }
  const Tensor& moment1(size_t i) const { return m_[i]; }
  const Tensor& moment2(size_t i) const { return v_[i]; }
  int64_t state_numel() const;  // elements of moments held by this rank

  // Moments as name -> tensor ("NAME.m", "NAME.v") of the owned parameters, for checkpoints.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state, const std::string& source);
  const std::vector<layers::Parameter*>& params() const { return params_; }

 private:
  std::vector<layers::Parameter*> params_;
  std::vector<bool> owned_;
  std::vector<Tensor> m_, v_;
  OptimizerConfig config_;
  int64_t count_ = 0;
};

}  // namespace tttlm::train
