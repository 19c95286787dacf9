#include "autograd/ops/matmul_bf16.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/matmul.h"
#include "core/view.h"

namespace tttlm::ops {

namespace {

// f32 (..., C) -> contiguous bf16 (rows, C), no autograd.
Tensor rows_bf16(const Tensor& t) {
  autograd::NoGradGuard ng;
  Tensor c = cast(contiguous(t.detach()), Dtype::bf16);
  return view::reshape(contiguous(c), {-1, t.size(-1)});
}

struct LinearBf16Backward final : autograd::Node {
  Tensor x_bf16, w_bf16;  // (rows, K), (K, N)
  Shape x_shape;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    autograd::NoGradGuard ng;
    Tensor g = rows_bf16(grads[0]);  // (rows, N)
    Tensor gx, gw;
    if (needs_input_grad(0)) gx = view::reshape(detail::gemm_raw(g, view::transpose(w_bf16, 0, 1), true), x_shape);
    if (needs_input_grad(1)) gw = detail::gemm_raw(view::transpose(x_bf16, 0, 1), g, true);
    return {gx, gw};
  }
  std::string name() const override { return "LinearBf16Backward"; }
};

}  // namespace

Tensor linear_bf16(const Tensor& x, const Tensor& weight, const Tensor& weight_bf16) {
  check_defined("linear_bf16", "x", x);
  check_defined("linear_bf16", "weight", weight);
  check_defined("linear_bf16", "weight_bf16", weight_bf16);
  check_same_device("linear_bf16", {{"x", &x}, {"weight", &weight}, {"weight_bf16", &weight_bf16}});
  TTT_CHECK(x.dtype() == Dtype::f32 && weight.dtype() == Dtype::f32 && weight_bf16.dtype() == Dtype::bf16,
            "[linear_bf16] needs f32 x and weight and a bf16 weight copy; got ",
            describe_operands({{"x", &x}, {"weight", &weight}, {"weight_bf16", &weight_bf16}}));
  TTT_CHECK(
      weight.ndim() == 2 && weight_bf16.shape() == weight.shape() && x.ndim() >= 1 && x.size(-1) == weight.size(0),
      "[linear_bf16] x (..., K) needs weight (K, N) and a bf16 copy of the same shape; got ",
      describe_operands({{"x", &x}, {"weight", &weight}, {"weight_bf16", &weight_bf16}}));
  Tensor xb = rows_bf16(x);
  Tensor out = detail::gemm_raw(xb, weight_bf16.detach(), true);  // (rows, N) f32
  Shape s = x.shape();
  s.back() = weight.size(1);
  out = view::reshape(out, s);
  if (autograd::any_requires_grad({x, weight})) {
    auto node = std::make_shared<LinearBf16Backward>();
    node->x_bf16 = xb;
    node->w_bf16 = weight_bf16.detach();
    node->x_shape = x.shape();
    autograd::record(node, {x, weight}, {out});
  }
  return out;
}

}  // namespace tttlm::ops
