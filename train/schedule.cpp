#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/dtype.h"

namespace tttlm::train {

double lr_at(const OptimizerConfig& o, int64_t count) {
  const double c = static_cast<double>(count);
  if (count < o.warmup_steps) return o.lr * c / static_cast<double>(o.warmup_steps);
  const double span = static_cast<double>(o.decay_steps - o.warmup_steps);
  const double t = std::min(c - static_cast<double>(o.warmup_steps), span);
  return o.end_lr + (o.lr - o.end_lr) * 0.5 * (1.0 + std::cos(M_PI * t / span));
}

double ttt_lr_mult_at(const layers::ModelConfig& m, int64_t step) {
  if (!(m.ttt_base_lr_init > 0 && m.ttt_base_lr_warmup > 0)) return 1.0;
  const double frac = std::min(1.0, static_cast<double>(step - 1) / static_cast<double>(m.ttt_base_lr_warmup));
  const double v = (m.ttt_base_lr_init + frac * (m.ttt_base_lr - m.ttt_base_lr_init)) / m.ttt_base_lr;
  return static_cast<double>(static_cast<float>(bf16_t(static_cast<float>(v))));
}

}  // namespace tttlm::train
