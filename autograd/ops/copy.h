// Copies: contiguous layout, dtype casts and device moves. All differentiable (the gradient of a cast is
// cast back; of a device move, moved back).
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

// x itself when already contiguous, else a contiguous copy.
Tensor contiguous(const Tensor& x);
// A contiguous copy that never aliases x.
Tensor clone(const Tensor& x);
// x converted to dtype (x itself when the dtype already matches).
Tensor cast(const Tensor& x, Dtype dtype);
// x on device (x itself when already there).
Tensor to(const Tensor& x, Device device);

}  // namespace tttlm::ops
