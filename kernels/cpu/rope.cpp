// CPU RoPE: the (T, D/2) cos/sin table is built once per call (rope_cos_sin, shared with CUDA), then
// (row, t) pairs run in parallel.
#include "kernels/rope.h"

#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {
template <class P>
void build_table(const P* pos, int64_t T, int64_t D, float theta, std::vector<float>& cs, std::vector<float>& sn) {
  const int64_t half = D / 2;
  cs.resize(static_cast<size_t>(T * half));
  sn.resize(static_cast<size_t>(T * half));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i)
      rope_cos_sin(static_cast<int64_t>(pos[t]), i, D, theta, cs[t * half + i], sn[t * half + i]);
}
}  // namespace

void rope_forward(Dtype dtype, Dtype pos_dtype, const void* x, const void* positions, void* y, int64_t rows, int64_t T,
                  int64_t D, float theta, RopeDirection direction) {
  std::vector<float> cs, sn;
  if (pos_dtype == Dtype::i32)
    build_table(static_cast<const int32_t*>(positions), T, D, theta, cs, sn);
  else if (pos_dtype == Dtype::i64)
    build_table(static_cast<const int64_t*>(positions), T, D, theta, cs, sn);
  else
    throw InvalidArgument(detail::concat("[rope] positions must be i32 or i64, got ", dtype_name(pos_dtype)));
  const int64_t half = D / 2;
  dispatch_float(dtype, "rope", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
    const scalar_t sign = direction == RopeDirection::forward ? scalar_t(1) : scalar_t(-1);
#pragma omp parallel for schedule(static) if (rows * T * D > (1 << 15))
    for (int64_t r = 0; r < rows * T; ++r) {
      const int64_t t = r % T;
      const float* ct = cs.data() + t * half;
      const float* st = sn.data() + t * half;
      const scalar_t* xr = X + r * D;
      scalar_t* yr = Y + r * D;
      for (int64_t i = 0; i < half; ++i) {
        const scalar_t c = ct[i], s = sign * static_cast<scalar_t>(st[i]);
        const scalar_t x0 = xr[2 * i], x1 = xr[2 * i + 1];
        yr[2 * i] = x0 * c - x1 * s;
        yr[2 * i + 1] = x0 * s + x1 * c;
      }
    }
  });
}

}  // namespace tttlm::kernels::cpu
