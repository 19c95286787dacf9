// CPU random fills: element i is a pure function of (seed, offset, i), so the parallel loop is exact.
#include "kernels/random.h"

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {
template <class F>
void fill(Dtype dtype, void* out, int64_t n, const char* op, F&& value) {
  dispatch_float(dtype, op, [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto O = static_cast<scalar_t*>(out);
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t i = 0; i < n; ++i) O[i] = static_cast<scalar_t>(value(static_cast<uint64_t>(i)));
  });
}
}  // namespace

void random_uniform(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  fill(dtype, out, n, "random_uniform", [&](uint64_t i) { return random_uniform_value(seed, offset, i, lo, hi); });
}

void random_normal(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  fill(dtype, out, n, "random_normal", [&](uint64_t i) { return random_normal_value(seed, offset, i, mean, std); });
}

void random_trunc_normal(Dtype dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double std,
                         double bound_in_std) {
  fill(dtype, out, n, "random_trunc_normal",
       [&](uint64_t i) { return random_trunc_normal_value(seed, offset, i, std, bound_in_std); });
}

}  // namespace tttlm::kernels::cpu
