// cuBLASLt as the emulator provides it: the descriptor API that kernels/cuda/gemm.cu drives, computing
// D = alpha·op(A)·op(B) + beta·C column-major with the layouts' rows, columns, leading dimensions,
// batch counts and strided batch offsets exactly as set (OpenBLAS does the arithmetic, in f32; bf16
// operands are widened and the result rounded to bf16; CUBLAS_COMPUTE_32F_FAST_TF32 rounds the inputs
// to TF32 first). What it checks, like the real library or the GPU would fail:
// - attribute sizes, dimension agreement, ld >= rows, equal batch counts (CUBLAS_STATUS_INVALID_VALUE);
// - every operand's whole footprint (all batches) lies in one device allocation (an illegal address);
// - the algorithm from cublasLtMatmulAlgoGetHeuristic assumes the alignments the preference declared
//   (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES, 256 when not set; kernels use up to 16-byte vector
//   loads) and cublasLtMatmul fails with a misaligned address when a pointer or batch offset is less
//   aligned than that, so an algorithm cached for aligned operands fails on an offset view.
#include <cblas.h>
#include <cublasLt.h>
#include <cuda_bf16.h>

#include <cstring>
#include <string>
#include <vector>

#include "cudaemu/block.h"
#include "cudaemu/memory.h"

namespace tttlm::cudaemu {
namespace {

struct Layout {
  cudaDataType type;
  uint64_t rows, cols;
  int64_t ld;
  int32_t batch = 1;
  int64_t stride = 0;
  int32_t order = CUBLASLT_ORDER_COL;
};
struct Desc {
  cublasComputeType_t compute;
  cudaDataType_t scale;
  int32_t trans_a = CUBLAS_OP_N, trans_b = CUBLAS_OP_N;
};
struct Pref {
  uint64_t max_workspace = 0;
  uint32_t align[4] = {256, 256, 256, 256};  // A, B, C, D
};
constexpr uint64_t kAlgoMagic = 0x7474746c6d656d75ull;  // "tttlmemu"

Layout* L(cublasLtMatrixLayout_t l) { return reinterpret_cast<Layout*>(l); }
Desc* D(cublasLtMatmulDesc_t d) { return reinterpret_cast<Desc*>(d); }
Pref* P(cublasLtMatmulPreference_t p) { return reinterpret_cast<Pref*>(p); }

template <class T>
cublasStatus_t set(T& field, const void* buf, size_t n) {
  if (!buf || n != sizeof(T)) return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(&field, buf, sizeof(T));
  return CUBLAS_STATUS_SUCCESS;
}

size_t elem_size(cudaDataType t) { return t == CUDA_R_32F ? 4 : t == CUDA_R_16BF ? 2 : 0; }

cublasStatus_t failure(cudaError_t err, const std::string& message) {
  record_error(err, "cublasLtMatmul: " + message);
  return CUBLAS_STATUS_EXECUTION_FAILED;
}

// Bytes from the first to one past the last element of all batches.
size_t footprint(const Layout& l) {
  return ((static_cast<uint64_t>(l.batch) - 1) * static_cast<uint64_t>(l.stride) + (l.cols - 1) * l.ld + l.rows) *
         elem_size(l.type);
}

std::vector<float> widen(const void* p, const Layout& l, int32_t b, bool tf32) {
  const size_t n = (l.cols - 1) * l.ld + l.rows;
  std::vector<float> out(n);
  const size_t off = static_cast<size_t>(b) * l.stride;
  if (l.type == CUDA_R_32F) {
    std::memcpy(out.data(), static_cast<const float*>(p) + off, n * 4);
  } else {
    const __nv_bfloat16* s = static_cast<const __nv_bfloat16*>(p) + off;
    for (size_t i = 0; i < n; ++i) out[i] = __bfloat162float(s[i]);
  }
  if (tf32)  // round to nearest even at 10 mantissa bits
    for (float& v : out) {
      uint32_t u;
      std::memcpy(&u, &v, 4);
      u = (u + 0xFFFu + ((u >> 13) & 1u)) & ~0x1FFFu;
      std::memcpy(&v, &u, 4);
    }
  return out;
}

}  // namespace
}  // namespace tttlm::cudaemu

using namespace tttlm::cudaemu;

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* h) {
  *h = reinterpret_cast<cublasLtHandle_t>(new char);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) {
  delete reinterpret_cast<char*>(h);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* d, cublasComputeType_t compute, cudaDataType_t scale) {
  if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (scale != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
  *d = reinterpret_cast<cublasLtMatmulDesc_t>(new Desc{compute, scale});
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
  delete D(d);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void* buf,
                                              size_t n) {
  switch (a) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
      return set(D(d)->trans_a, buf, n);
    case CUBLASLT_MATMUL_DESC_TRANSB:
      return set(D(d)->trans_b, buf, n);
    default:
      return CUBLAS_STATUS_NOT_SUPPORTED;
  }
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* l, cudaDataType type, uint64_t rows, uint64_t cols,
                                          int64_t ld) {
  if (!elem_size(type)) return CUBLAS_STATUS_NOT_SUPPORTED;
  *l = reinterpret_cast<cublasLtMatrixLayout_t>(new Layout{type, rows, cols, ld});
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
  delete L(l);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t a,
                                                const void* buf, size_t n) {
  switch (a) {
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT:
      return set(L(l)->batch, buf, n);
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET:
      return set(L(l)->stride, buf, n);
    case CUBLASLT_MATRIX_LAYOUT_ORDER:
      return set(L(l)->order, buf, n);
    default:
      return CUBLAS_STATUS_NOT_SUPPORTED;
  }
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* p) {
  *p = reinterpret_cast<cublasLtMatmulPreference_t>(new Pref);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
  delete P(p);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t a, const void* buf, size_t n) {
  switch (a) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
      return set(P(p)->max_workspace, buf, n);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
      return set(P(p)->align[0], buf, n);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
      return set(P(p)->align[1], buf, n);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
      return set(P(p)->align[2], buf, n);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
      return set(P(p)->align[3], buf, n);
    default:
      return CUBLAS_STATUS_NOT_SUPPORTED;
  }
}

// One algorithm: it needs the operands as aligned as the preference promised (at most 16 bytes matter).
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatmulPreference_t pref, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* returned) {
  *returned = 0;
  if (requested < 1) return CUBLAS_STATUS_INVALID_VALUE;
  std::memset(&results[0], 0, sizeof results[0]);
  results[0].algo.data[0] = kAlgoMagic;
  for (int i = 0; i < 4; ++i) results[0].algo.data[1 + i] = std::min<uint32_t>(P(pref)->align[i], 16);
  results[0].state = CUBLAS_STATUS_SUCCESS;
  results[0].wavesCount = 1.f;
  *returned = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t desc, const void* alpha_p, const void* A,
                              cublasLtMatrixLayout_t Adesc, const void* B, cublasLtMatrixLayout_t Bdesc,
                              const void* beta_p, const void* C, cublasLtMatrixLayout_t Cdesc, void* Dp,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo, void*, size_t,
                              cudaStream_t) {
  const Desc& d = *D(desc);
  const Layout *la = L(Adesc), *lb = L(Bdesc), *lc = L(Cdesc), *ld = L(Ddesc);
  const Layout* all[4] = {la, lb, lc, ld};
  for (const Layout* l : all)
    if (l->order != CUBLASLT_ORDER_COL || l->ld < static_cast<int64_t>(l->rows) || l->stride < 0)
      return CUBLAS_STATUS_INVALID_VALUE;
  const bool ta = d.trans_a != CUBLAS_OP_N, tb = d.trans_b != CUBLAS_OP_N;
  const uint64_t m = ta ? la->cols : la->rows, k = ta ? la->rows : la->cols;
  const uint64_t kb = tb ? lb->cols : lb->rows, n = tb ? lb->rows : lb->cols;
  if (k != kb || lc->rows != m || lc->cols != n || ld->rows != m || ld->cols != n) return CUBLAS_STATUS_INVALID_VALUE;
  if (la->batch != lb->batch || la->batch != lc->batch || la->batch != ld->batch) return CUBLAS_STATUS_INVALID_VALUE;
  if (la->type != lb->type || lc->type != ld->type) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (!algo || algo->data[0] != kAlgoMagic) return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;

  const void* ptrs[4] = {A, B, C, Dp};
  const char* names = "ABCD";
  for (int i = 0; i < 4; ++i) {
    if (i == 2 && C == Dp) continue;
    if (k == 0 && i < 2) continue;
    std::string why = describe_range(ptrs[i], footprint(*all[i]));
    if (!why.empty())
      return failure(cudaErrorIllegalAddress,
                     std::string("operand ") + names[i] + " (" + std::to_string(all[i]->rows) + " x " +
                         std::to_string(all[i]->cols) + ", ld " + std::to_string(all[i]->ld) + ", batch " +
                         std::to_string(all[i]->batch) + " of stride " + std::to_string(all[i]->stride) + ") " + why);
    const uint64_t need = algo->data[1 + i];
    const uint64_t addr = reinterpret_cast<uintptr_t>(ptrs[i]);
    const uint64_t step = static_cast<uint64_t>(all[i]->stride) * elem_size(all[i]->type);
    if (addr % need != 0 || (all[i]->batch > 1 && step % need != 0))
      return failure(cudaErrorMisalignedAddress,
                     std::string("operand ") + names[i] + " at address " + std::to_string(addr) + ", batch step " +
                         std::to_string(step) + " bytes, is not " + std::to_string(need) +
                         "-byte aligned as the algorithm's preference (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_" + names[i] +
                         "_BYTES) promised");
  }

  const float alpha = *static_cast<const float*>(alpha_p), beta = *static_cast<const float*>(beta_p);
  const bool tf32 = d.compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  const Layout& lcr = *lc;
  for (int32_t b = 0; b < la->batch; ++b) {
    // D starts as beta·C (exactly zero when beta is 0: C is not read, as cuBLAS promises).
    std::vector<float> acc(n * m, 0.f);  // dense m x n, column-major, ld m
    if (beta != 0.f) {
      std::vector<float> c = widen(C, lcr, b, false);
      for (uint64_t j = 0; j < n; ++j)
        for (uint64_t i = 0; i < m; ++i) acc[j * m + i] = beta * c[j * lcr.ld + i];
    }
    if (k > 0) {
      std::vector<float> a = widen(A, *la, b, tf32), bm = widen(B, *lb, b, tf32);
      cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                  static_cast<int>(n), static_cast<int>(k), alpha, a.data(), static_cast<int>(la->ld), bm.data(),
                  static_cast<int>(lb->ld), 1.f, acc.data(), static_cast<int>(m));
    }
    const size_t off = static_cast<size_t>(b) * ld->stride;
    for (uint64_t j = 0; j < n; ++j)
      for (uint64_t i = 0; i < m; ++i) {
        const size_t at = off + j * ld->ld + i;
        if (ld->type == CUDA_R_32F)
          static_cast<float*>(Dp)[at] = acc[j * m + i];
        else
          static_cast<__nv_bfloat16*>(Dp)[at] = __float2bfloat16(acc[j * m + i]);
      }
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
