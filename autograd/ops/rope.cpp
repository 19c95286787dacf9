#include "autograd/ops/rope.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"
#include "kernels/rope.h"

namespace tttlm::ops {

namespace {

Tensor rope_apply(const Tensor& x, const Tensor& positions, float theta, kernels::RopeDirection direction) {
  Tensor xc = contiguous(x).detach();
  const int64_t T = x.size(-2), D = x.size(-1);
  const int64_t rows = T * D > 0 ? x.numel() / (T * D) : 0;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), rope_forward, x.dtype(), positions.dtype(), xc.data_ptr(), positions.data_ptr(),
               y.data_ptr(), rows, T, D, theta, direction);
  return y;
}

struct RopeBackward final : autograd::Node {
  Tensor positions;  // (T), contiguous
  float theta = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    return {rope_apply(grad_or_zeros(grads, 0), positions, theta, kernels::RopeDirection::inverse)};
  }
  std::string name() const override { return "RopeBackward"; }
};

}  // namespace

Tensor rope(const Tensor& x, const Tensor& positions, double theta) {
  check_defined("rope", "x", x);
  check_defined("rope", "positions", positions);
  check_float("rope", "x", x);
  check_same_device("rope", {{"x", &x}, {"positions", &positions}});
  TTT_CHECK(x.ndim() >= 2, "[rope] x must have shape (..., T, D), got ", x.describe());
  TTT_CHECK(x.size(-1) % 2 == 0, "[rope] the last dimension D of x must be even (pairs (2i, 2i+1)), got x ",
            x.describe());
  TTT_CHECK(positions.dtype() == Dtype::i32 || positions.dtype() == Dtype::i64,
            "[rope] positions must be i32 or i64, got positions ", positions.describe());
  TTT_CHECK(positions.ndim() == 1 && positions.size(0) == x.size(-2), "[rope] positions must have shape (", x.size(-2),
            ") to match T of x ", x.describe(), ", got positions ", positions.describe());
  TTT_CHECK(theta > 0, "[rope] theta must be positive, got ", theta);
  Tensor pc = contiguous(positions).detach();
  Tensor y = rope_apply(x, pc, static_cast<float>(theta), kernels::RopeDirection::forward);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<RopeBackward>();
    node->positions = pc;
    node->theta = static_cast<float>(theta);
    autograd::record(node, {x}, {y});
  }
  return y;
}

}  // namespace tttlm::ops
