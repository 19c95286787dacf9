// CPU RMSNorm and LayerNorm: rows in parallel, per-row statistics accumulated in double (SIMD reductions),
// parameter gradients summed per fixed chunk of rows and then over chunks in order (kernels/norm.h).
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// kCenter: LayerNorm (subtract the mean, add the bias); otherwise RMSNorm.
template <bool kCenter, class T>
void forward_typed(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t rows, int64_t cols, double eps) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    double mu = 0;
    if constexpr (kCenter) {
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += xr[c];
      mu = s / static_cast<double>(cols);
    }
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t c = 0; c < cols; ++c) {
      const double d = xr[c] - mu;
      ss += d * d;
    }
    const T m = static_cast<T>(mu), rs = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(cols) + eps));
    if constexpr (kCenter) {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - m) * rs * w[c] + b[c];
      mean[r] = m;
    } else {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] * rs * w[c];
    }
    rstd[r] = rs;
  }
}

// With xhat = (x − mean)·rstd and g = dy ⊙ w:
//   dx = rstd·(g − mean_c(g) − xhat·mean_c(g ⊙ xhat))   (RMSNorm: without the mean_c(g) term)
//   dweight = Σ_rows dy ⊙ xhat,  dbias = Σ_rows dy
template <bool kCenter, class T>
void backward_typed(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw, T* db,
                    int64_t rows, int64_t cols) {
  const int64_t per = norm_rows_per_chunk(rows), chunks = (rows + per - 1) / per;
  std::vector<double> part_w(dw ? chunks * cols : 0), part_b(db ? chunks * cols : 0);
  const double inv_cols = 1.0 / static_cast<double>(cols);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
  for (int64_t k = 0; k < chunks; ++k) {
    double* aw = dw ? part_w.data() + k * cols : nullptr;
    double* ab = db ? part_b.data() + k * cols : nullptr;
    const int64_t end = std::min(rows, (k + 1) * per);
    for (int64_t r = k * per; r < end; ++r) {
      const T* xr = x + r * cols;
      const T* dyr = dy + r * cols;
      const T m = kCenter ? mean[r] : T(0), rs = rstd[r];
      if (dx) {
        double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
        for (int64_t c = 0; c < cols; ++c) {
          const T g = dyr[c] * w[c];
          sg += g;
          sgx += g * ((xr[c] - m) * rs);
        }
        const T mg = kCenter ? static_cast<T>(sg * inv_cols) : T(0), mgx = static_cast<T>(sgx * inv_cols);
        T* dxr = dx + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) dxr[c] = rs * (dyr[c] * w[c] - mg - (xr[c] - m) * rs * mgx);
      }
      if (aw) {
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) aw[c] += static_cast<double>(dyr[c] * ((xr[c] - m) * rs));
      }
      if (ab) {
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) ab[c] += static_cast<double>(dyr[c]);
      }
    }
  }
  auto reduce_chunks = [&](const std::vector<double>& part, T* out) {
    std::vector<double> acc(cols, 0.0);
    for (int64_t k = 0; k < chunks; ++k) {
      const double* p = part.data() + k * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) acc[c] += p[c];
    }
    for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<T>(acc[c]);
  };
  if (dw) reduce_chunks(part_w, dw);
  if (db) reduce_chunks(part_b, db);
}

}  // namespace

void rms_norm_forward(Dtype dtype, const void* x, const void* weight, void* y, void* rstd, int64_t rows, int64_t cols,
                      double eps) {
  dispatch_float(dtype, "rms_norm", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    forward_typed<false>(static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight),
                         static_cast<const scalar_t*>(nullptr), static_cast<scalar_t*>(y),
                         static_cast<scalar_t*>(nullptr), static_cast<scalar_t*>(rstd), rows, cols, eps);
  });
}

void rms_norm_backward(Dtype dtype, const void* x, const void* weight, const void* rstd, const void* dy, void* dx,
                       void* dweight, int64_t rows, int64_t cols) {
  dispatch_float(dtype, "rms_norm_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    backward_typed<false>(static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight),
                          static_cast<const scalar_t*>(nullptr), static_cast<const scalar_t*>(rstd),
                          static_cast<const scalar_t*>(dy), static_cast<scalar_t*>(dx), static_cast<scalar_t*>(dweight),
                          static_cast<scalar_t*>(nullptr), rows, cols);
  });
}

void layer_norm_forward(Dtype dtype, const void* x, const void* weight, const void* bias, void* y, void* mean,
                        void* rstd, int64_t rows, int64_t cols, double eps) {
  dispatch_float(dtype, "layer_norm", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    forward_typed<true>(static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight),
                        static_cast<const scalar_t*>(bias), static_cast<scalar_t*>(y), static_cast<scalar_t*>(mean),
                        static_cast<scalar_t*>(rstd), rows, cols, eps);
  });
}

void layer_norm_backward(Dtype dtype, const void* x, const void* weight, const void* mean, const void* rstd,
                         const void* dy, void* dx, void* dweight, void* dbias, int64_t rows, int64_t cols) {
  dispatch_float(dtype, "layer_norm_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    backward_typed<true>(static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight),
                         static_cast<const scalar_t*>(mean), static_cast<const scalar_t*>(rstd),
                         static_cast<const scalar_t*>(dy), static_cast<scalar_t*>(dx), static_cast<scalar_t*>(dweight),
                         static_cast<scalar_t*>(dbias), rows, cols);
  });
}

}  // namespace tttlm::kernels::cpu
