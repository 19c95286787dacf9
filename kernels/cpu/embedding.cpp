// CPU embedding. Backward is a stable counting sort of the tokens by id, then rows of dweight in parallel,
// each summing its tokens in increasing order in double.
#include "kernels/embedding.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {

template <class F>
void with_ids(Dtype id_dtype, const void* ids, const char* op, F&& body) {
  if (id_dtype == Dtype::i32) return body(static_cast<const int32_t*>(ids));
  if (id_dtype == Dtype::i64) return body(static_cast<const int64_t*>(ids));
  throw InvalidArgument(detail::concat("[", op, "] ids must be i32 or i64, got ", dtype_name(id_dtype)));
}

}  // namespace

void embedding_forward(Dtype dtype, Dtype id_dtype, const void* weight, const void* ids, void* y, int64_t N, int64_t V,
                       int64_t C) {
  (void)V;
  const size_t row_bytes = static_cast<size_t>(C) * dtype_size(dtype);
  dispatch_float(dtype, "embedding", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto W = static_cast<const scalar_t*>(weight);
    auto Y = static_cast<scalar_t*>(y);
    with_ids(id_dtype, ids, "embedding", [&](auto I) {
#pragma omp parallel for schedule(static) if (N * C > (1 << 16))
      for (int64_t n = 0; n < N; ++n) std::memcpy(Y + n * C, W + static_cast<int64_t>(I[n]) * C, row_bytes);
    });
  });
}

void embedding_backward(Dtype dtype, Dtype id_dtype, const void* dy, const void* ids, void* dweight, int64_t N,
                        int64_t V, int64_t C) {
  // start[v]..start[v+1]: positions in `order` of the tokens with id v, in increasing token order.
  std::vector<int64_t> start(static_cast<size_t>(V + 1), 0), order(static_cast<size_t>(N));
  with_ids(id_dtype, ids, "embedding_backward", [&](auto I) {
    for (int64_t n = 0; n < N; ++n) ++start[static_cast<int64_t>(I[n]) + 1];
    for (int64_t v = 0; v < V; ++v) start[v + 1] += start[v];
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t n = 0; n < N; ++n) order[fill[static_cast<int64_t>(I[n])]++] = n;
  });
  dispatch_float(dtype, "embedding_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto G = static_cast<const scalar_t*>(dy);
    auto DW = static_cast<scalar_t*>(dweight);
#pragma omp parallel if (V * C > (1 << 15))
    {
      std::vector<double> acc(static_cast<size_t>(C));
#pragma omp for schedule(static)
      for (int64_t v = 0; v < V; ++v) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = start[v]; j < start[v + 1]; ++j) {
          const scalar_t* g = G + order[j] * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<double>(g[c]);
        }
        scalar_t* out = DW + v * C;
        for (int64_t c = 0; c < C; ++c) out[c] = static_cast<scalar_t>(acc[c]);
      }
    }
  });
}

}  // namespace tttlm::kernels::cpu
