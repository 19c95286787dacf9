// Dispatch, from runtime values to code:
//
// TTT_DISPATCH(device, kernel, args...) calls kernels::cpu::kernel(args...) when `device` is the CPU and
// kernels::cuda::kernel(args...) otherwise; the one way ops reach a kernel declared with TTT_KERNEL
// (kernels/declare.h), e.g. TTT_DISPATCH(a.device(), gemm, a.dtype(), g). It expands to two direct calls
// behind one branch (no function pointer, nothing virtual), with the argument
// list written once and, since only one branch runs, evaluated once.
//
// dispatch_float(dtype, "op", [&](auto tag) { using T = TTT_T(tag); ... }) runs the body with T bound to
// float or double (the CPU compute types); any other dtype throws naming the op. (A function, not a macro,
// so OpenMP pragmas can stand inside the body.)
#pragma once

#include "core/dtype.h"
#include "core/error.h"

#define TTT_DISPATCH(device, kernel, ...) \
  ((device).is_cpu() ? ::tttlm::kernels::cpu::kernel(__VA_ARGS__) : ::tttlm::kernels::cuda::kernel(__VA_ARGS__))

namespace tttlm::kernels {

template <class T>
struct TypeTag {
  using type = T;
};

#define TTT_T(tag) typename decltype(tag)::type

template <class F>
decltype(auto) dispatch_float(Dtype dtype, const char* op, F&& body) {
  switch (dtype) {
    case Dtype::f32:
      return body(TypeTag<float>{});
    case Dtype::f64:
      return body(TypeTag<double>{});
    default:
      throw InvalidArgument(
          detail::concat("[", op, "] dtype ", dtype_name(dtype), " is not supported on the CPU (f32, f64)"));
  }
}

}  // namespace tttlm::kernels
