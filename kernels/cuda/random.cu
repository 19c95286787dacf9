// CUDA random fills: one thread per element, the same host/device value functions as the CPU
// (kernels/random.h). bf16 rounds through float, as a CPU f32 draw cast to bf16 does.
#include "kernels/cuda/common.cuh"
#include "kernels/random.h"

namespace tttlm::kernels::cuda {

namespace {

enum class Dist : uint8_t { uniform, normal, trunc_normal };

template <class T>
__global__ void random_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, Dist dist, double a, double b) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const uint64_t u = static_cast<uint64_t>(i);
    double r;
    switch (dist) {
      case Dist::uniform:
        r = random_uniform_value(seed, offset, u, a, b);
        break;
      case Dist::normal:
        r = random_normal_value(seed, offset, u, a, b);
        break;
      default:
        r = random_trunc_normal_value(seed, offset, u, a, b);
        break;
    }
    if constexpr (std::is_same_v<T, double>)
      out[i] = r;
    else
      st(out, i, static_cast<float>(r));
  }
}

void launch(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, Dist dist, double a, double b,
            const char* op) {
  if (n == 0) return;
  TTT_CUDA_DISPATCH_FLOAT(dtype, op, [&] {
    TTT_LAUNCH(grid_for(n), 256, 0, stream(), random_kernel)(static_cast<scalar_t*>(out), n, seed, offset, dist, a, b);
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void random_uniform(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  launch(dtype, out, n, seed, offset, Dist::uniform, lo, hi, "random_uniform");
}

void random_normal(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  launch(dtype, out, n, seed, offset, Dist::normal, mean, std, "random_normal");
}

void random_trunc_normal(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double std,
                         double bound_in_std) {
  launch(dtype, out, n, seed, offset, Dist::trunc_normal, std, bound_in_std, "random_trunc_normal");
}

}  // namespace tttlm::kernels::cuda
