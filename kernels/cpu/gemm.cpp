// CPU GEMM. f32 goes to oneDNN's dnnl_sgemm: Debian's OpenBLAS 0.3.21 detects Zen 5 as Haswell and runs
// AVX2 kernels at about half the speed unless OPENBLAS_CORETYPE is set before the process starts, which a
// library cannot do for its users (measured in bench/results/gemm_cpu.md). f64 (gradient checks only)
// goes to OpenBLAS's cblas_dgemm. A batch of small matrices runs one matrix per OpenMP thread (the
// library then runs single-threaded inside the parallel region); large matrices use the library's threads.
#include "kernels/gemm.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"

namespace tttlm::kernels::cpu {

namespace {

void sgemm_one(const GemmArgs& g, const float* a, const float* b, float* c) {
  dnnl_status_t st = dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', g.m, g.n, g.k, g.alpha, a, g.lda,
                                b, g.ldb, g.beta, c, g.ldc);
  TTT_CHECK_RT(st == dnnl_success, "[gemm] dnnl_sgemm failed with status ", static_cast<int>(st), " for m=",
               g.m, " n=", g.n, " k=", g.k);
}

void dgemm_one(const GemmArgs& g, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, a,
              static_cast<int>(g.lda), b, static_cast<int>(g.ldb), g.beta, c, static_cast<int>(g.ldc));
}

template <class T, class F>
void run_batched(const GemmArgs& g, F one) {
  auto A = static_cast<const T*>(g.a);
  auto B = static_cast<const T*>(g.b);
  auto C = static_cast<T*>(g.c);
  const double flops = 2.0 * g.m * g.n * g.k;
  // Small matrices: one per thread. Large ones: let the library parallelise each.
  if (g.batch > 1 && flops < 4e6) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < g.batch; ++i) one(g, A + i * g.stride_a, B + i * g.stride_b, C + i * g.stride_c);
  } else {
    for (int64_t i = 0; i < g.batch; ++i) one(g, A + i * g.stride_a, B + i * g.stride_b, C + i * g.stride_c);
  }
}

}  // namespace

void gemm(Dtype dtype, const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (dtype == Dtype::f32) return run_batched<float>(g, sgemm_one);
  if (dtype == Dtype::f64) return run_batched<double>(g, dgemm_one);
  throw InvalidArgument(std::string("[gemm] dtype ") + dtype_name(dtype) + " is not supported on the CPU (f32, f64)");
}

}  // namespace tttlm::kernels::cpu
