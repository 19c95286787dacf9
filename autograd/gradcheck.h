// Gradient check by central differences in f64 (flashlight's jacobianTestImpl, reduced to one random
// projection): with y = fn(inputs) and a fixed random R shaped like y, the scalar L = sum(y ⊙ R) is
// differentiated by backward() and by (L(x+eps) − L(x−eps)) / 2eps for every element of every input
// that requires grad. An element passes when |analytic − numeric| <= atol + rtol·|numeric|.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tttlm::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for R
  int max_report = 5;    // mismatches listed in the message
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_err = 0;
  int64_t checked = 0;  // number of elements compared
  std::string message;  // the first mismatches: input, flat index, analytic, numeric
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Inputs must be f64 CPU tensors; each one with requires_grad is checked (the others are constants).
GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tttlm::autograd
