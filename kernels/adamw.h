// AdamW, exactly as optax.adamw (scale_by_adam, add_decayed_weights, scale_by_learning_rate; docs/spec/ttt.md §7),
// updating n contiguous elements in place:
//   m = (1-b1) g + b1 m;  v = (1-b2) g^2 + b2 v;  mhat = m / (1 - b1^step);  vhat = v / (1 - b2^step)
//   p = p - lr (mhat / (sqrt(vhat) + eps) + wd p)          (eps_root = 0; wd uses p before the update)
// step is the 1-based update count used for bias correction. The coefficients (1-b1, 1-b1^step, ...) are
// formed in double and rounded to the dtype once; the element math runs in the dtype (f32 master weights;
// f64 for tests). param, grad, m and v share the dtype. Not differentiable; elements are independent.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

TTT_KERNEL(adamw_update, (Dtype dtype, void* param, const void* grad, void* m, void* v, int64_t n, double lr,
                          double beta1, double beta2, double eps, double weight_decay, int64_t step));
