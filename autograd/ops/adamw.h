// AdamW parameter update, exactly optax.adamw (docs/spec/ttt.md §7; the formula is in kernels/adamw.h). Not
// differentiable and not recorded: param, m and v are updated in place (grad is read). All four tensors
// are contiguous, of one shape, dtype (f32 master copies, or f64) and device. step is the 1-based update
// count used for bias correction (optax's count after increment).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tttlm::ops {

// Defaults are the training recipe of docs/spec/ttt.md §7 (optax's own defaults differ: b2 0.999, wd 1e-4).
struct AdamWHyper {
  double lr = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWHyper& hyper,
                  int64_t step);

}  // namespace tttlm::ops
