// CPU scan: outer slices in parallel; inside a slice the running sums of all `inner` lines advance
// together along n (contiguous rows, so the inner loop vectorises).
#include "kernels/cumsum.h"

#include <algorithm>
#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

void cumsum_forward(Dtype dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner,
                    ScanDirection direction) {
  dispatch_float(dtype, "cumsum", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
    const bool rev = direction == ScanDirection::reverse;
#pragma omp parallel if (outer * n * inner > (1 << 15))
    {
      std::vector<double> acc(static_cast<size_t>(inner));
#pragma omp for schedule(static)
      for (int64_t o = 0; o < outer; ++o) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t q = 0; q < n; ++q) {
          const int64_t j = rev ? n - 1 - q : q;
          const scalar_t* xr = X + (o * n + j) * inner;
          scalar_t* yr = Y + (o * n + j) * inner;
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) {
            acc[i] += static_cast<double>(xr[i]);
            yr[i] = static_cast<scalar_t>(acc[i]);
          }
        }
      }
    }
  });
}

}  // namespace tttlm::kernels::cpu
