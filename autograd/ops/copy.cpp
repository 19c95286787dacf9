#include "autograd/ops/copy.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "kernels/copy.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

namespace {

Tensor copy_as(const Tensor& x, Dtype dtype) {
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  TTT_DISPATCH(x.device(), copy_strided, x.dtype(), x.data_ptr(), desc_of(x), dtype, out.data_ptr(), x.numel());
  return out;
}

struct IdentityBackward final : autograd::Node {
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {g[0]}; }
  std::string name() const override { return "CopyBackward"; }
};

struct CastBackward final : autograd::Node {
  Dtype src;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {cast(g[0], src)}; }
  std::string name() const override { return "CastBackward"; }
};

struct ToBackward final : autograd::Node {
  Device src;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {to(g[0], src)}; }
  std::string name() const override { return "ToBackward"; }
};

}  // namespace

Tensor contiguous(const Tensor& x) {
  check_defined("contiguous", "x", x);
  if (x.is_contiguous()) return x;
  return clone(x);
}

Tensor clone(const Tensor& x) {
  check_defined("clone", "x", x);
  Tensor out = copy_as(x, x.dtype());
  if (autograd::any_requires_grad({x})) autograd::record(std::make_shared<IdentityBackward>(), {x}, {out});
  return out;
}

Tensor cast(const Tensor& x, Dtype dtype) {
  check_defined("cast", "x", x);
  if (x.dtype() == dtype) return x;
  Tensor out = copy_as(x, dtype);
  if (dtype_is_float(dtype) && autograd::any_requires_grad({x})) {
    auto node = std::make_shared<CastBackward>();
    node->src = x.dtype();
    autograd::record(node, {x}, {out});
  }
  return out;
}

Tensor to(const Tensor& x, Device device) {
  check_defined("to", "x", x);
  if (x.device() == device) return x;
  Tensor out = contiguous(x).detach().copy_to(device);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<ToBackward>();
    node->src = x.device();
    autograd::record(node, {x}, {out});
  }
  return out;
}

}  // namespace tttlm::ops
