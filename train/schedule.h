// Learning-rate schedules of the official recipe (docs/spec/ttt.md §7, §4).
#pragma once

#include <cstdint>

#include "layers/model_config.h"
#include "train/run_config.h"

namespace tttlm::train {

// optax.warmup_cosine_decay_schedule at update count c (0-based; training step s uses c = s - 1, so the
// first update has lr 0): linear from 0 to peak over `warmup`, then cosine to end_lr at `decay` (the decay
// length includes the warmup) and constant after.
double lr_at(const OptimizerConfig& o, int64_t count);

// The TTT-MLP inner-lr warmup multiplier for training step s (1-based), bfloat16-quantised as in the
// official code; 1 when the warmup is off.
double ttt_lr_mult_at(const layers::ModelConfig& m, int64_t step);

}  // namespace tttlm::train
