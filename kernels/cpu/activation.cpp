// CPU activations: one templated loop per (activation, dtype), OpenMP-parallel and SIMD-annotated over
// the flat buffer; the scalar math is the shared definition in kernels/activation.h.
#include "kernels/activation.h"

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {

// Transcendental loops pay for a thread team sooner than plain arithmetic.
constexpr int64_t kParallelMin = 1 << 14;

template <Activation A, class T>
void forward_typed(const T* x, T* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = activation_value<A>(x[i]);
}

template <Activation A, class T>
void backward_typed(const T* x, const T* dy, T* dx, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * activation_derivative<A>(x[i]);
}

}  // namespace

void unary_forward(Activation act, Dtype dtype, const void* x, void* y, int64_t n) {
  dispatch_float(dtype, activation_name(act), [&](auto tag) {
    using scalar_t = TTT_T(tag);
    visit_activation(act, [&](auto a) {
      forward_typed<decltype(a)::value>(static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), n);
    });
  });
}

void unary_backward(Activation act, Dtype dtype, const void* x, const void* dy, void* dx, int64_t n) {
  dispatch_float(dtype, activation_name(act), [&](auto tag) {
    using scalar_t = TTT_T(tag);
    visit_activation(act, [&](auto a) {
      backward_typed<decltype(a)::value>(static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(dy),
                                         static_cast<scalar_t*>(dx), n);
    });
  });
}

}  // namespace tttlm::kernels::cpu
