#include "kernels/reduce.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

void reduce_rows(ReduceOp op, Dtype dtype, const void* x, void* out, int64_t* argmax, int64_t rows, int64_t cols) {
  dispatch_float(dtype, "reduce", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto O = static_cast<scalar_t*>(out);
    if (op == ReduceOp::sum) {
      // Fixed blocks of 1024 summed in double, then blocks in order: independent of the thread count.
      constexpr int64_t kBlock = 1024;
      if (rows < 4 && cols > 8 * kBlock) {
        for (int64_t r = 0; r < rows; ++r) {
          const scalar_t* row = X + r * cols;
          int64_t nb = (cols + kBlock - 1) / kBlock;
          std::vector<double> part(nb);
#pragma omp parallel for schedule(static)
          for (int64_t bi = 0; bi < nb; ++bi) {
            double s = 0;
            int64_t end = std::min(cols, (bi + 1) * kBlock);
            for (int64_t c = bi * kBlock; c < end; ++c) s += row[c];
            part[bi] = s;
          }
          double s = 0;
          for (double p : part) s += p;
          O[r] = static_cast<scalar_t>(s);
        }
        return;
      }
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
      for (int64_t r = 0; r < rows; ++r) {
        const scalar_t* row = X + r * cols;
        double s = 0;
        for (int64_t c = 0; c < cols; ++c) s += row[c];
        O[r] = static_cast<scalar_t>(s);
      }
      return;
    }
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* row = X + r * cols;
      scalar_t best = cols ? row[0] : -std::numeric_limits<scalar_t>::infinity();
      int64_t bi = 0;
      for (int64_t c = 1; c < cols; ++c)
        if (row[c] > best) {
          best = row[c];
          bi = c;
        }
      O[r] = best;
      if (argmax) argmax[r] = bi;
    }
  });
}

void reduce_max_backward(Dtype dtype, const void* dout, const int64_t* argmax, void* dx, int64_t rows, int64_t cols) {
  dispatch_float(dtype, "max_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto G = static_cast<const scalar_t*>(dout);
    auto D = static_cast<scalar_t*>(dx);
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
    for (int64_t r = 0; r < rows; ++r) {
      scalar_t* row = D + r * cols;
      for (int64_t c = 0; c < cols; ++c) row[c] = 0;
      row[argmax[r]] = G[r];
    }
  });
}

}  // namespace tttlm::kernels::cpu
