// CPU AdamW: one pass over the elements, in parallel.
#include "kernels/adamw.h"

#include <cmath>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

void adamw_update(Dtype dtype, void* param, const void* grad, void* m, void* v, int64_t n, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t step) {
  dispatch_float(dtype, "adamw_update", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto P = static_cast<scalar_t*>(param);
    auto G = static_cast<const scalar_t*>(grad);
    auto M = static_cast<scalar_t*>(m);
    auto Vv = static_cast<scalar_t*>(v);
    const double s = static_cast<double>(step);
    const scalar_t b1 = static_cast<scalar_t>(beta1), b2 = static_cast<scalar_t>(beta2);
    const scalar_t c1 = static_cast<scalar_t>(1.0 - beta1), c2 = static_cast<scalar_t>(1.0 - beta2);
    const scalar_t bc1 = static_cast<scalar_t>(1.0 - std::pow(beta1, s));
    const scalar_t bc2 = static_cast<scalar_t>(1.0 - std::pow(beta2, s));
    const scalar_t e = static_cast<scalar_t>(eps), wd = static_cast<scalar_t>(weight_decay);
    const scalar_t lr_t = static_cast<scalar_t>(lr);
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) {
      const scalar_t g = G[i];
      const scalar_t mi = c1 * g + b1 * M[i];
      const scalar_t vi = c2 * (g * g) + b2 * Vv[i];
      M[i] = mi;
      Vv[i] = vi;
      const scalar_t u = (mi / bc1) / (std::sqrt(vi / bc2) + e) + wd * P[i];
      P[i] = P[i] - lr_t * u;
    }
  });
}

}  // namespace tttlm::kernels::cpu
