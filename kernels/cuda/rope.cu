// CUDA RoPE: one thread per (row, t, pair); each thread evaluates its own angle with rope_cos_sin (the
// same code as the CPU table, so both devices rotate by identical float32 cos/sin).
#include "kernels/cuda/common.cuh"
#include "kernels/rope.h"

namespace tttlm::kernels::cuda {

namespace {

template <class T, class P>
__global__ void rope_kernel(const T* x, const P* pos, T* y, int64_t rows, int64_t T_, int64_t D, float theta,
                            float sign) {
  using A = typename Acc<T>::type;
  const int64_t half = D / 2;
  const int64_t n = rows * T_ * half;
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < n; j += (int64_t)gridDim.x * blockDim.x) {
    const int64_t i = j % half, t = (j / half) % T_;
    float c, s;
    rope_cos_sin(static_cast<int64_t>(pos[t]), i, D, theta, c, s);
    const A ca = c, sa = static_cast<A>(sign * s);
    const A x0 = ld(x, 2 * j), x1 = ld(x, 2 * j + 1);
    st(y, 2 * j, x0 * ca - x1 * sa);
    st(y, 2 * j + 1, x0 * sa + x1 * ca);
  }
}

}  // namespace

void rope_forward(Dtype dtype, Dtype pos_dtype, const void* x, const void* positions, void* y, int64_t rows, int64_t T,
                  int64_t D, float theta, RopeDirection direction) {
  TTT_CHECK(pos_dtype == Dtype::i32 || pos_dtype == Dtype::i64, "[rope] positions must be i32 or i64, got ",
            dtype_name(pos_dtype));
  const int64_t n = rows * T * (D / 2);
  if (n == 0) return;
  const float sign = direction == RopeDirection::forward ? 1.0f : -1.0f;
  TTT_CUDA_DISPATCH_FLOAT(dtype, "rope", [&] {
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
    if (pos_dtype == Dtype::i32) {
      TTT_LAUNCH(grid_for(n), 256, 0, stream(), rope_kernel)
      (X, static_cast<const int32_t*>(positions), Y, rows, T, D, theta, sign);
    } else {
      TTT_LAUNCH(grid_for(n), 256, 0, stream(), rope_kernel)
      (X, static_cast<const int64_t*>(positions), Y, rows, T, D, theta, sign);
    }
    TTT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace tttlm::kernels::cuda
