#include "autograd/ops/adamw.h"

#include "autograd/ops/common.h"
#include "kernels/adamw.h"
#include "kernels/dispatch.h"

namespace tttlm::ops {

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWHyper& hyper,
                  int64_t step) {
  const std::initializer_list<std::pair<const char*, const Tensor*>> operands = {
      {"param", &param}, {"grad", &grad}, {"m", &m}, {"v", &v}};
  for (const auto& [name, t] : operands) check_defined("adamw_update", name, *t);
  for (const auto& [name, t] : operands) {
    TTT_CHECK(t->shape() == param.shape(), "[adamw_update] param, grad, m and v must have one shape; got ",
              describe_operands(operands));
    TTT_CHECK(t->is_contiguous(), "[adamw_update] ", name, " must be contiguous; got ", describe_operands(operands));
  }
  check_same_device("adamw_update", operands);
  check_same_dtype("adamw_update", operands);
  TTT_CHECK(param.dtype() == Dtype::f32 || param.dtype() == Dtype::f64,
            "[adamw_update] parameters and moments must be f32 (or f64); got ", describe_operands(operands));
  TTT_CHECK(step >= 1, "[adamw_update] step is the 1-based update count, got ", step);
  TTT_CHECK(hyper.beta1 >= 0 && hyper.beta1 < 1 && hyper.beta2 >= 0 && hyper.beta2 < 1,
            "[adamw_update] beta1 and beta2 must lie in [0, 1); got beta1 ", hyper.beta1, ", beta2 ", hyper.beta2);
  TTT_DISPATCH(param.device(), adamw_update, param.dtype(), param.data_ptr(), grad.data_ptr(), m.data_ptr(),
               v.data_ptr(), param.numel(), hyper.lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weight_decay, step);
}

}  // namespace tttlm::ops
