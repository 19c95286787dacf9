// CUDA AdamW: one thread per element, the same arithmetic as the CPU loop.
#include "kernels/adamw.h"
#include "kernels/cuda/common.cuh"

namespace tttlm::kernels::cuda {

namespace {

template <class T>
__global__ void adamw_kernel(T* p, const T* g, T* m, T* v, int64_t n, T lr, T b1, T b2, T c1, T c2, T bc1, T bc2, T eps,
                             T wd) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const T gi = g[i];
    const T mi = c1 * gi + b1 * m[i];
    const T vi = c2 * (gi * gi) + b2 * v[i];
    m[i] = mi;
    v[i] = vi;
    const T u = (mi / bc1) / (sqrt(vi / bc2) + eps) + wd * p[i];
    p[i] = p[i] - lr * u;
  }
}

template <class T>
void launch(void* param, const void* grad, void* m, void* v, int64_t n, double lr, double beta1, double beta2,
            double eps, double weight_decay, int64_t step) {
  const double s = static_cast<double>(step);
  TTT_LAUNCH(grid_for(n), 256, 0, stream(), adamw_kernel)
  (static_cast<T*>(param), static_cast<const T*>(grad), static_cast<T*>(m), static_cast<T*>(v), n, static_cast<T>(lr),
   static_cast<T>(beta1), static_cast<T>(beta2), static_cast<T>(1.0 - beta1), static_cast<T>(1.0 - beta2),
   static_cast<T>(1.0 - pow(beta1, s)), static_cast<T>(1.0 - pow(beta2, s)), static_cast<T>(eps),
   static_cast<T>(weight_decay));
  TTT_CUDA_CHECK_LAUNCH();
}

}  // namespace

void adamw_update(Dtype dtype, void* param, const void* grad, void* m, void* v, int64_t n, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t step) {
  if (n == 0) return;
  switch (dtype) {
    case Dtype::f32:
      return launch<float>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, step);
    case Dtype::f64:
      return launch<double>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, step);
    default:
      throw InvalidArgument(detail::concat("[adamw_update] dtype ", dtype_name(dtype),
                                           " is not supported on CUDA (f32, f64: parameters are master copies)"));
  }
}

}  // namespace tttlm::kernels::cuda
