// CPU GEMM, chosen by measurement (bench/results/gemm_cpu.txt): large f32 matrices go to oneDNN's
// dnnl_sgemm (as fast as OpenBLAS or faster on these cores, and independent of OPENBLAS_CORETYPE, which a
// library cannot set for its users); a batch of small matrices (the TTT inner loop's 16x64 blocks) runs
// one matrix per OpenMP thread through OpenBLAS's cblas_sgemm, which has the lower per-call overhead there.
// f64 (gradient checks only) goes to cblas_dgemm; bf16 inputs with an f32 result to gemm_bf16.cpp.
#include "kernels/gemm.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"

namespace tttlm::kernels::cpu {

namespace {

void sgemm_one(const GemmArgs& g, const float* a, const float* b, float* c) {
  dnnl_status_t st = dnnl_sgemm(g.trans_a ? 'T' : 'N', g.trans_b ? 'T' : 'N', g.m, g.n, g.k, g.alpha, a, g.lda, b,
                                g.ldb, g.beta, c, g.ldc);
  TTT_CHECK_RT(st == dnnl_success, "[gemm] dnnl_sgemm failed with status ", static_cast<int>(st), " for m=", g.m,
               " n=", g.n, " k=", g.k);
}

void sgemm_small(const GemmArgs& g, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, a, static_cast<int>(g.lda),
              b, static_cast<int>(g.ldb), g.beta, c, static_cast<int>(g.ldc));
}

void dgemm_one(const GemmArgs& g, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, a, static_cast<int>(g.lda),
              b, static_cast<int>(g.ldb), g.beta, c, static_cast<int>(g.ldc));
}

template <class T, class F, class G>
void run_batched(const GemmArgs& g, F one, G small) {
  auto A = static_cast<const T*>(g.a);
  auto B = static_cast<const T*>(g.b);
  auto C = static_cast<T*>(g.c);
  const double flops = 2.0 * g.m * g.n * g.k;
  // Small matrices: one per thread. Large ones: let the library parallelise each.
  if (g.batch > 1 && flops < 4e6) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < g.batch; ++i) small(g, A + i * g.stride_a, B + i * g.stride_b, C + i * g.stride_c);
  } else {
    for (int64_t i = 0; i < g.batch; ++i) one(g, A + i * g.stride_a, B + i * g.stride_b, C + i * g.stride_c);
  }
}

}  // namespace

void gemm(Dtype dtype, const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (dtype == Dtype::f32) return run_batched<float>(g, sgemm_one, sgemm_small);
  if (dtype == Dtype::f64) return run_batched<double>(g, dgemm_one, dgemm_one);
  if (dtype == Dtype::bf16 && g.c_f32) return gemm_bf16_f32(g);
  throw InvalidArgument(std::string("[gemm] dtype ") + dtype_name(dtype) +
                        " is not supported on the CPU (f32, f64, and bf16 inputs with an f32 result)");
}

}  // namespace tttlm::kernels::cpu
