#include "autograd/ops/elementwise.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/reduce.h"
#include "core/view.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace tttlm::ops {

namespace {

const char* op_name(kernels::BinaryOp op) {
  switch (op) {
    case kernels::BinaryOp::add:
      return "add";
    case kernels::BinaryOp::sub:
      return "sub";
    case kernels::BinaryOp::mul:
      return "mul";
    default:
      return "div";
  }
}

Tensor binary_raw(kernels::BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  check_defined(name, "a", a);
  check_defined(name, "b", b);
  check_same_device(name, {{"a", &a}, {"b", &b}});
  check_same_dtype(name, {{"a", &a}, {"b", &b}});
  check_float(name, "a", a);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor av = view::expand(a.detach(), shape), bv = view::expand(b.detach(), shape);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  TTT_DISPATCH(a.device(), binary_forward, op, a.dtype(), av.data_ptr(), desc_of(av), bv.data_ptr(), desc_of(bv),
               out.data_ptr(), out.numel());
  return out;
}

struct BinaryBackward final : autograd::Node {
  kernels::BinaryOp op;
  Tensor a, b;  // saved for mul/div
  Shape a_shape, b_shape;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor& g = grads[0];
    Tensor ga, gb;
    switch (op) {
      case kernels::BinaryOp::add:
        if (needs_input_grad(0)) ga = sum_to(g, a_shape);
        if (needs_input_grad(1)) gb = sum_to(g, b_shape);
        break;
      case kernels::BinaryOp::sub:
        if (needs_input_grad(0)) ga = sum_to(g, a_shape);
        if (needs_input_grad(1)) gb = sum_to(neg(g), b_shape);
        break;
      case kernels::BinaryOp::mul:
        if (needs_input_grad(0)) ga = sum_to(mul(g, b), a_shape);
        if (needs_input_grad(1)) gb = sum_to(mul(g, a), b_shape);
        break;
      case kernels::BinaryOp::div:
        // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2
        if (needs_input_grad(0)) ga = sum_to(div(g, b), a_shape);
        if (needs_input_grad(1)) gb = sum_to(neg(div(mul(g, a), mul(b, b))), b_shape);
        break;
    }
    return {ga, gb};
  }
  std::string name() const override { return std::string(op_name(op)) + "Backward"; }
};

Tensor binary(kernels::BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  if (autograd::any_requires_grad({a, b})) {
    auto node = std::make_shared<BinaryBackward>();
    node->op = op;
    node->a_shape = a.shape();
    node->b_shape = b.shape();
    if (op == kernels::BinaryOp::mul || op == kernels::BinaryOp::div) {
      node->a = a.detach();
      node->b = b.detach();
    }
    autograd::record(node, {a, b}, {out});
  }
  return out;
}

struct AffineBackward final : autograd::Node {
  double alpha;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {affine(g[0], alpha, 0.0)}; }
  std::string name() const override { return "AffineBackward"; }
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(kernels::BinaryOp::add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(kernels::BinaryOp::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(kernels::BinaryOp::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(kernels::BinaryOp::div, a, b); }
Tensor neg(const Tensor& x) { return affine(x, -1.0, 0.0); }

Tensor affine(const Tensor& x, double alpha, double beta) {
  check_defined("affine", "x", x);
  check_float("affine", "x", x);
  Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), affine_forward, x.dtype(), xc.data_ptr(), out.data_ptr(), out.numel(), alpha, beta);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<AffineBackward>();
    node->alpha = alpha;
    autograd::record(node, {xc}, {out});
  }
  return out;
}

void add_(const Tensor& y, const Tensor& x, double alpha) {
  check_same_device("add_", {{"y", &y}, {"x", &x}});
  check_same_dtype("add_", {{"y", &y}, {"x", &x}});
  TTT_CHECK(y.shape() == x.shape(), "[add_] shapes must match; got y: ", y.describe(), ", x: ", x.describe());
  TTT_CHECK(y.is_contiguous(), "[add_] y must be contiguous, got ", y.describe());
  Tensor xc = contiguous(x.detach());
  TTT_DISPATCH(y.device(), axpy, y.dtype(), xc.data_ptr(), y.data_ptr(), y.numel(), alpha);
}

void scale_(const Tensor& y, double alpha) {
  TTT_CHECK(y.is_contiguous(), "[scale_] y must be contiguous, got ", y.describe());
  TTT_DISPATCH(y.device(), affine_forward, y.dtype(), y.data_ptr(), y.data_ptr(), y.numel(), alpha, 0.0);
}

}  // namespace tttlm::ops
