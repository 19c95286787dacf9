// CPU causal depthwise conv: rows (b, t) in parallel, the inner loops run along C (contiguous) so they
// vectorise. Weight and bias gradients: fixed blocks of rows summed in double, then the blocks in order.
#include "kernels/conv.h"

#include <algorithm>
#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

void causal_conv1d_forward(Dtype dtype, const void* x, const void* weight, const void* bias, void* y, int64_t B,
                           int64_t T, int64_t C, int64_t K) {
  dispatch_float(dtype, "causal_conv1d", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto W = static_cast<const scalar_t*>(weight);
    auto Bi = static_cast<const scalar_t*>(bias);
    auto Y = static_cast<scalar_t*>(y);
#pragma omp parallel for schedule(static) if (B * T * C * K > (1 << 16))
    for (int64_t r = 0; r < B * T; ++r) {
      const int64_t t = r % T;
      scalar_t* yr = Y + r * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = Bi[c];
      // Tap k reads time t-K+1+k; taps before time 0 read zeros and are skipped.
      for (int64_t k = std::max<int64_t>(0, K - 1 - t); k < K; ++k) {
        const scalar_t* xr = X + (r - (K - 1 - k)) * C;
        const scalar_t* wk = W + k * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) yr[c] += wk[c] * xr[c];
      }
    }
  });
}

void causal_conv1d_backward(Dtype dtype, const void* dy, const void* x, const void* weight, void* dx, void* dweight,
                            void* dbias, int64_t B, int64_t T, int64_t C, int64_t K) {
  dispatch_float(dtype, "causal_conv1d_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto G = static_cast<const scalar_t*>(dy);
    auto X = static_cast<const scalar_t*>(x);
    auto W = static_cast<const scalar_t*>(weight);
    const int64_t rows = B * T;
    if (dx) {
      auto DX = static_cast<scalar_t*>(dx);
      // dx[b, s] = sum_k weight[k] * dy[b, s+K-1-k] over the taps that stay inside the sequence.
#pragma omp parallel for schedule(static) if (rows * C * K > (1 << 16))
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t s = r % T;
        scalar_t* out = DX + r * C;
        for (int64_t c = 0; c < C; ++c) out[c] = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t shift = K - 1 - k;
          if (s + shift >= T) continue;
          const scalar_t* gr = G + (r + shift) * C;
          const scalar_t* wk = W + k * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) out[c] += wk[c] * gr[c];
        }
      }
    }
    if (!dweight && !dbias) return;
    // Block size depends only on the problem size (at most 64 blocks), never on the thread count.
    const int64_t block = std::max<int64_t>(256, (rows + 63) / 64);
    const int64_t nblocks = (rows + block - 1) / block;
    const int64_t taps = K + 1;  // K weight taps, then the bias
    std::vector<double> part(static_cast<size_t>(nblocks * taps * C), 0.0);
#pragma omp parallel for schedule(static) if (rows * C * K > (1 << 16))
    for (int64_t bi = 0; bi < nblocks; ++bi) {
      double* acc = part.data() + bi * taps * C;
      const int64_t end = std::min(rows, (bi + 1) * block);
      for (int64_t r = bi * block; r < end; ++r) {
        const int64_t t = r % T;
        const scalar_t* gr = G + r * C;
        for (int64_t k = std::max<int64_t>(0, K - 1 - t); k < K; ++k) {
          const scalar_t* xr = X + (r - (K - 1 - k)) * C;
          double* ak = acc + k * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) ak[c] += static_cast<double>(gr[c]) * static_cast<double>(xr[c]);
        }
        double* ab = acc + K * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) ab[c] += static_cast<double>(gr[c]);
      }
    }
    auto DW = static_cast<scalar_t*>(dweight);
    auto DB = static_cast<scalar_t*>(dbias);
#pragma omp parallel for schedule(static) if (taps * C * nblocks > (1 << 16))
    for (int64_t j = 0; j < taps * C; ++j) {
      double s = 0;
      for (int64_t bi = 0; bi < nblocks; ++bi) s += part[bi * taps * C + j];
      if (j < K * C) {
        if (DW) DW[j] = static_cast<scalar_t>(s);
      } else if (DB) {
        DB[j - K * C] = static_cast<scalar_t>(s);
      }
    }
  });
}

}  // namespace tttlm::kernels::cpu
