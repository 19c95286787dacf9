// Batched strided GEMM, row-major: for each b < batch,
//   C_b = alpha * op(A_b) · op(B_b) + beta * C_b,   op(X) = X or Xᵀ,
// with op(A_b) (m, k), op(B_b) (k, n), C_b (m, n); lda/ldb/ldc are row strides (elements) of the stored
// matrices and stride_* the distance between batch entries (0 broadcasts one matrix over the batch).
// CPU: f32 through oneDNN's dnnl_sgemm (bench/results/gemm_cpu.txt has the measurements), f64 through
// cblas_dgemm; batches of small matrices run one matrix per thread. CUDA: cuBLASLt, f32 or bf16 inputs, f32
// accumulation.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const void* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  float alpha = 1.f, beta = 0.f;
  bool c_f32 = false;  // with bf16 inputs: C is f32 (otherwise C has the inputs' dtype)
};
}  // namespace tttlm::kernels

TTT_KERNEL(gemm, (Dtype dtype, const GemmArgs& args));

namespace tttlm::kernels::cpu {
void gemm_bf16_f32(const GemmArgs& args);  // bf16 A, B; f32 C (gemm() dispatches here for bf16 with c_f32)
}
