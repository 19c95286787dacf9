#include "autograd/ops/random.h"

#include <cmath>

#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"
#include "kernels/random.h"

namespace tttlm::ops {

namespace {

enum class Dist : uint8_t { uniform, normal, trunc_normal };

Tensor draw(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, Dist dist, double a,
            double b, const char* op) {
  TTT_CHECK(dtype_is_float(dtype), "[", op, "] dtype must be f32, bf16 or f64, got ", dtype_name(dtype), " for shape ",
            shape_str(shape));
  // The CPU kernels compute f32/f64; a CPU bf16 draw is the f32 draw rounded, as on CUDA.
  const Dtype kernel_dtype = device.is_cpu() && dtype == Dtype::bf16 ? Dtype::f32 : dtype;
  Tensor out = Tensor::empty(shape, kernel_dtype, device);
  const int64_t n = out.numel();
  switch (dist) {
    case Dist::uniform:
      TTT_DISPATCH(device, random_uniform, kernel_dtype, out.data_ptr(), n, seed, offset, a, b);
      break;
    case Dist::normal:
      TTT_DISPATCH(device, random_normal, kernel_dtype, out.data_ptr(), n, seed, offset, a, b);
      break;
    case Dist::trunc_normal:
      TTT_DISPATCH(device, random_trunc_normal, kernel_dtype, out.data_ptr(), n, seed, offset, a, b);
      break;
  }
  return kernel_dtype == dtype ? out : cast(out, dtype);
}

}  // namespace

Tensor random_normal(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double mean,
                     double std) {
  TTT_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0,
            "[random_normal] mean must be finite and std finite and >= 0; got mean ", mean, ", std ", std,
            " for shape ", shape_str(shape));
  return draw(shape, dtype, device, seed, offset, Dist::normal, mean, std, "random_normal");
}

Tensor random_uniform(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double lo,
                      double hi) {
  TTT_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
            "[random_uniform] bounds must be finite with lo <= hi; got lo ", lo, ", hi ", hi, " for shape ",
            shape_str(shape));
  return draw(shape, dtype, device, seed, offset, Dist::uniform, lo, hi, "random_uniform");
}

Tensor random_trunc_normal(const Shape& shape, Dtype dtype, Device device, uint64_t seed, uint64_t offset, double std,
                           double bound_in_std) {
  TTT_CHECK(std::isfinite(std) && std >= 0 && bound_in_std >= 0.5 && std::isfinite(bound_in_std),
            "[random_trunc_normal] std must be finite and >= 0 and bound_in_std finite and >= 0.5; got std ", std,
            ", bound_in_std ", bound_in_std, " for shape ", shape_str(shape));
  TTT_CHECK(offset < (uint64_t{1} << 32), "[random_trunc_normal] offset must be below 2^32 (the high 32 bits ",
            "count rejection attempts), got ", offset);
  return draw(shape, dtype, device, seed, offset, Dist::trunc_normal, std, bound_in_std, "random_trunc_normal");
}

}  // namespace tttlm::ops
