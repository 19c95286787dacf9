// CPU triangular mask: rows in parallel; each row copies its kept prefix and fills the rest.
#include "kernels/mask.h"

#include <algorithm>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

void mask_upper_fill(Dtype dtype, const void* x, void* y, int64_t outer, int64_t R, int64_t C, int64_t diagonal,
                     double value) {
  dispatch_float(dtype, "mask_upper_fill", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
    const scalar_t v = static_cast<scalar_t>(value);
#pragma omp parallel for schedule(static) if (outer * R * C > (1 << 15))
    for (int64_t r = 0; r < outer * R; ++r) {
      const int64_t i = r % R;
      // Columns j <= i + diagonal are kept.
      const int64_t keep = std::clamp<int64_t>(i + diagonal + 1, 0, C);
      const scalar_t* xr = X + r * C;
      scalar_t* yr = Y + r * C;
      for (int64_t j = 0; j < keep; ++j) yr[j] = xr[j];
      for (int64_t j = keep; j < C; ++j) yr[j] = v;
    }
  });
}

}  // namespace tttlm::kernels::cpu
