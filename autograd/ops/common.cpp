#include "autograd/ops/common.h"

#include "core/error.h"

namespace tttlm::ops {

kernels::StridedDesc desc_of(const Tensor& t) {
  TTT_CHECK(t.ndim() <= kernels::kMaxDims, "[tensor] rank ", t.ndim(), " exceeds the kernels' limit of ",
            kernels::kMaxDims, " dimensions: ", t.describe());
  kernels::StridedDesc d;
  d.ndim = static_cast<int>(t.ndim());
  for (int i = 0; i < d.ndim; ++i) {
    d.shape[i] = t.shape()[i];
    d.strides[i] = t.strides()[i];
  }
  return d;
}

std::string describe_operands(std::initializer_list<std::pair<const char*, const Tensor*>> operands) {
  std::string s;
  for (const auto& [name, t] : operands) {
    if (!s.empty()) s += ", ";
    s += std::string(name) + ": " + t->describe();
  }
  return s;
}

void check_same_device(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> operands) {
  const Tensor* first = nullptr;
  for (const auto& [name, t] : operands) {
    if (!t->defined()) continue;
    if (!first) first = t;
    TTT_CHECK(t->device() == first->device(), "[", op, "] operands must be on one device; got ",
              describe_operands(operands));
  }
}

void check_same_dtype(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> operands) {
  const Tensor* first = nullptr;
  for (const auto& [name, t] : operands) {
    if (!t->defined()) continue;
    if (!first) first = t;
    TTT_CHECK(t->dtype() == first->dtype(), "[", op, "] operands must have one dtype; got ",
              describe_operands(operands));
  }
}

void check_float(const char* op, const char* name, const Tensor& t) {
  TTT_CHECK(dtype_is_float(t.dtype()), "[", op, "] ", name, " must be a floating tensor, got ", t.describe());
}

void check_defined(const char* op, const char* name, const Tensor& t) {
  TTT_CHECK(t.defined(), "[", op, "] ", name, " is an undefined tensor");
}

}  // namespace tttlm::ops
