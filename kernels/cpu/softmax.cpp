// CPU softmax, log-softmax and fused cross-entropy: rows in parallel; per row a max pass, then exp and a
// double-precision sum (kernels/softmax.h). The row loops are SIMD-annotated; exp itself stays scalar
// unless the math library offers a vector variant.
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 13;

template <class T>
T row_max(const T* x, int64_t cols) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t c = 0; c < cols; ++c) m = std::max(m, x[c]);
  return m;
}

// Σ_c exp(x[c] − m) in double.
template <class T>
double row_sum_exp(const T* x, T m, int64_t cols) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < cols; ++c) s += std::exp(x[c] - m);
  return s;
}

int64_t target_at(Dtype target_dtype, const void* targets, int64_t r) {
  return target_dtype == Dtype::i32 ? static_cast<const int32_t*>(targets)[r] : static_cast<const int64_t*>(targets)[r];
}

void check_target_dtype(Dtype target_dtype) {
  TTT_CHECK(target_dtype == Dtype::i32 || target_dtype == Dtype::i64,
            "[cross_entropy] targets must be i32 or i64, got ", dtype_name(target_dtype));
}

}  // namespace

void softmax_forward(SoftmaxKind kind, Dtype dtype, const void* x, void* y, int64_t rows, int64_t cols) {
  dispatch_float(dtype, kind == SoftmaxKind::softmax ? "softmax" : "log_softmax", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = X + r * cols;
      scalar_t* yr = Y + r * cols;
      const scalar_t m = row_max(xr, cols);
      if (kind == SoftmaxKind::softmax) {
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < cols; ++c) {
          yr[c] = std::exp(xr[c] - m);
          s += yr[c];
        }
        const scalar_t inv = static_cast<scalar_t>(1.0 / s);
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
      } else {
        const scalar_t log_s = static_cast<scalar_t>(std::log(row_sum_exp(xr, m, cols)));
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - m) - log_s;
      }
    }
  });
}

void softmax_backward(SoftmaxKind kind, Dtype dtype, const void* y, const void* dy, void* dx, int64_t rows,
                      int64_t cols) {
  dispatch_float(dtype, kind == SoftmaxKind::softmax ? "softmax_backward" : "log_softmax_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto Y = static_cast<const scalar_t*>(y);
    auto DY = static_cast<const scalar_t*>(dy);
    auto DX = static_cast<scalar_t*>(dx);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* yr = Y + r * cols;
      const scalar_t* dyr = DY + r * cols;
      scalar_t* dxr = DX + r * cols;
      double s = 0;
      if (kind == SoftmaxKind::softmax) {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < cols; ++c) s += dyr[c] * yr[c];
        const scalar_t st = static_cast<scalar_t>(s);
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) dxr[c] = yr[c] * (dyr[c] - st);
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < cols; ++c) s += dyr[c];
        const scalar_t st = static_cast<scalar_t>(s);
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) dxr[c] = dyr[c] - std::exp(yr[c]) * st;
      }
    }
  });
}

void cross_entropy_forward(Dtype dtype, const void* logits, Dtype target_dtype, const void* targets, void* loss,
                           void* lse, int64_t rows, int64_t cols) {
  check_target_dtype(target_dtype);
  dispatch_float(dtype, "cross_entropy", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(logits);
    auto L = static_cast<scalar_t*>(loss);
    auto LSE = static_cast<scalar_t*>(lse);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = X + r * cols;
      const scalar_t m = row_max(xr, cols);
      const double log_s = std::log(row_sum_exp(xr, m, cols));
      LSE[r] = static_cast<scalar_t>(m + log_s);
      const int64_t t = target_at(target_dtype, targets, r);
      if (t == kIgnoreTarget)
        L[r] = 0;
      else if (t < 0 || t >= cols)
        L[r] = std::numeric_limits<scalar_t>::quiet_NaN();
      else
        L[r] = static_cast<scalar_t>(static_cast<double>(m - xr[t]) + log_s);
    }
  });
}

void cross_entropy_backward(Dtype dtype, const void* logits, Dtype target_dtype, const void* targets, const void* lse,
                            const void* dloss, void* dlogits, int64_t rows, int64_t cols) {
  check_target_dtype(target_dtype);
  dispatch_float(dtype, "cross_entropy_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(logits);
    auto LSE = static_cast<const scalar_t*>(lse);
    auto G = static_cast<const scalar_t*>(dloss);
    auto DX = static_cast<scalar_t*>(dlogits);
#pragma omp parallel for schedule(static) if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* xr = X + r * cols;
      scalar_t* dxr = DX + r * cols;
      const int64_t t = target_at(target_dtype, targets, r);
      if (t == kIgnoreTarget) {
        std::fill(dxr, dxr + cols, scalar_t(0));
        continue;
      }
      const scalar_t g = t < 0 || t >= cols ? std::numeric_limits<scalar_t>::quiet_NaN() : G[r], l = LSE[r];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) dxr[c] = g * std::exp(xr[c] - l);
      if (t >= 0 && t < cols) dxr[t] -= g;
    }
  });
}

}  // namespace tttlm::kernels::cpu
