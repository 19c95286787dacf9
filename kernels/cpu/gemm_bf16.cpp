// CPU GEMM with bf16 inputs, f32 accumulation and f32 output: oneDNN's matmul primitive (on AVX-512 BF16
// cores its brgemm kernel, about twice dnnl_sgemm's rate at 2048^3). Transposes and row strides are the
// memory descriptors' strides, so no operand is copied; a batch is a 3-D problem with the batch steps as
// strides (step 0 broadcasts). Creating a primitive costs far more than a small product, so primitives are
// cached by everything that defines the problem (shape, strides, batch); a model has a few dozen shapes.
#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <tuple>

#include "core/error.h"
#include "kernels/gemm.h"

namespace tttlm::kernels::cpu {

namespace {

using dnnl::memory;
using Key =
    std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

struct Cache {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<Key, std::pair<dnnl::matmul, dnnl::matmul::primitive_desc>> prims;
  std::mutex mu;
};

Cache& cache() {
  static Cache c;
  return c;
}

// A (rows, cols) operand stored row-major with row stride ld, or transposed (stored (cols, rows)).
memory::desc operand(int64_t batch, int64_t rows, int64_t cols, bool trans, int64_t ld, int64_t step,
                     memory::data_type type) {
  const bool shared = batch > 1 && step == 0;  // one matrix for the whole batch: a broadcast dim of 1
  memory::dims dims{shared ? 1 : batch, rows, cols};
  memory::dims strides{batch > 1 && !shared ? step : rows * cols, trans ? 1 : ld, trans ? ld : 1};
  return memory::desc(dims, type, strides);
}

}  // namespace

void gemm_bf16_f32(const GemmArgs& g) {
  TTT_CHECK(g.alpha == 1.f && g.beta == 0.f, "[gemm] the CPU bf16 GEMM computes C = A·B only (alpha 1, beta 0)");
  Cache& c = cache();
  Key key{g.trans_a, g.trans_b, g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.stride_a, g.stride_b, g.stride_c, g.batch};
  dnnl::matmul prim;
  dnnl::matmul::primitive_desc pd;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.prims.find(key);
    if (it == c.prims.end()) {
      auto a = operand(g.batch, g.m, g.k, g.trans_a, g.lda, g.stride_a, memory::data_type::bf16);
      auto b = operand(g.batch, g.k, g.n, g.trans_b, g.ldb, g.stride_b, memory::data_type::bf16);
      auto out = operand(g.batch, g.m, g.n, false, g.ldc, g.stride_c, memory::data_type::f32);
      dnnl::matmul::primitive_desc p(dnnl::matmul::desc(a, b, out), c.engine);
      it = c.prims.emplace(key, std::make_pair(dnnl::matmul(p), p)).first;
    }
    prim = it->second.first;
    pd = it->second.second;
  }
  memory a(pd.src_desc(), c.engine, const_cast<void*>(g.a));
  memory b(pd.weights_desc(), c.engine, const_cast<void*>(g.b));
  memory out(pd.dst_desc(), c.engine, g.c);
  prim.execute(c.stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, out}});
  c.stream.wait();
}

}  // namespace tttlm::kernels::cpu
