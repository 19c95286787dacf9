// CUDA activations: grid-stride elementwise kernels templated on the activation, computing bf16 in f32;
// the scalar math is the shared definition in kernels/activation.h.
#include "kernels/activation.h"
#include "kernels/cuda/common.cuh"

namespace tttlm::kernels::cuda {

namespace {

template <Activation A, class T>
__global__ void unary_forward_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    st(y, i, activation_value<A>(ld(x, i)));
}

template <Activation A, class T>
__global__ void unary_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    st(dx, i, ld(dy, i) * activation_derivative<A>(ld(x, i)));
}

}  // namespace

void unary_forward(Activation act, Dtype dtype, const void* x, void* y, int64_t n) {
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, activation_name(act), [&] {
    visit_activation(act, [&](auto a) {
      TTT_LAUNCH(grid_for(n), 256, 0, stream(), unary_forward_kernel<decltype(a)::value>)
      (static_cast<const scalar_t*>(x), static_cast<scalar_t*>(y), n);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

void unary_backward(Activation act, Dtype dtype, const void* x, const void* dy, void* dx, int64_t n) {
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, activation_name(act), [&] {
    visit_activation(act, [&](auto a) {
      TTT_LAUNCH(grid_for(n), 256, 0, stream(), unary_backward_kernel<decltype(a)::value>)
      (static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(dy), static_cast<scalar_t*>(dx), n);
      TTT_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace tttlm::kernels::cuda
