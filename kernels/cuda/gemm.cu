// cuBLASLt GEMM. Row-major C = op(A)·op(B) is computed as the column-major C' = op(B)'·op(A)' with the
// operands swapped, so no data moves. f32 uses CUBLAS_COMPUTE_32F (exact f32, the parity reference);
// bf16 inputs use bf16 tensor cores with f32 accumulation and bf16 output, or f32 output with c_f32 (the
// mixed-precision training matmuls). The heuristic is told each
// operand's real alignment (pointer and batch step; an offset view may be only 4-byte aligned, and an
// algorithm chosen for 16-byte operands would fault on it with "misaligned address"); the algorithm is
// cached per device, shape and alignments.
#include <cublasLt.h>

#include <map>
#include <mutex>
#include <tuple>

#include "core/allocator.h"
#include "kernels/cuda/common.cuh"
#include "kernels/gemm.h"

#define TTT_CUBLAS_CHECK(expr)                                                                                    \
  do {                                                                                                            \
    cublasStatus_t s_ = (expr);                                                                                   \
    if (s_ != CUBLAS_STATUS_SUCCESS)                                                                              \
      throw ::tttlm::RuntimeError(                                                                                \
          ::tttlm::detail::concat(__FILE__, ":", __LINE__, ": ", #expr, " failed with cuBLAS status ", (int)s_)); \
  } while (0)

namespace tttlm::kernels::cuda {

namespace {

constexpr size_t kWorkspace = 32u << 20;

struct DeviceState {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
};

using Key = std::tuple<int, int, bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, bool, uint32_t, uint32_t, uint32_t, bool>;

// The largest power of two (at most 256) dividing the address and, with several batches, the batch step.
uint32_t alignment(const void* p, int64_t batch_stride_bytes, int64_t batch) {
  uint64_t v = reinterpret_cast<uintptr_t>(p) | 256u;
  if (batch > 1 && batch_stride_bytes != 0) v |= static_cast<uint64_t>(batch_stride_bytes);
  return static_cast<uint32_t>(v & (~v + 1));
}

std::mutex mu;
std::map<int, DeviceState> states;
std::map<Key, cublasLtMatmulAlgo_t> algos;

DeviceState& state() {
  int dev = cuda_current_device();
  std::lock_guard<std::mutex> lock(mu);
  DeviceState& s = states[dev];
  if (!s.handle) {
    TTT_CUBLAS_CHECK(cublasLtCreate(&s.handle));
    s.workspace = cuda_alloc(kWorkspace, dev);
  }
  return s;
}

}  // namespace

void gemm(Dtype dtype, const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  TTT_CHECK(dtype == Dtype::f32 || dtype == Dtype::bf16, "[gemm] CUDA GEMM takes f32 or bf16, got ", dtype_name(dtype));
  DeviceState& s = state();
  const int device = cuda_current_device();
  cudaDataType_t type = dtype == Dtype::f32 ? CUDA_R_32F : CUDA_R_16BF;
  const bool c_f32 = dtype == Dtype::f32 || g.c_f32;
  cudaDataType_t c_type = c_f32 ? CUDA_R_32F : type;

  // Column-major problem: C'(n x m) = opB'(n x k) * opA'(k x m).
  cublasOperation_t op1 = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t op2 = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  uint64_t r1 = g.trans_b ? g.k : g.n, c1 = g.trans_b ? g.n : g.k;
  uint64_t r2 = g.trans_a ? g.m : g.k, c2 = g.trans_a ? g.k : g.m;

  cublasLtMatmulDesc_t desc;
  TTT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  TTT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &op1, sizeof op1));
  TTT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &op2, sizeof op2));
  cublasLtMatrixLayout_t l1, l2, lc;
  TTT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l1, type, r1, c1, g.ldb));
  TTT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l2, type, r2, c2, g.lda));
  TTT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, c_type, g.n, g.m, g.ldc));
  int32_t batch = static_cast<int32_t>(g.batch);
  int64_t sb = g.stride_b, sa = g.stride_a, sc = g.stride_c;
  for (auto [l, stride] : {std::pair{l1, sb}, std::pair{l2, sa}, std::pair{lc, sc}}) {
    TTT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
    TTT_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
  }

  const int64_t es = static_cast<int64_t>(dtype_size(dtype));
  // cuBLASLt's A is our B and its B our A (the column-major swap above); C and D are both g.c.
  const uint32_t align_1 = alignment(g.b, g.stride_b * es, g.batch), align_2 = alignment(g.a, g.stride_a * es, g.batch),
                 align_c = alignment(g.c, g.stride_c * (c_f32 ? 4 : es), g.batch);
  Key key{device,        static_cast<int>(dtype),
          g.trans_a,     g.trans_b,
          g.m,           g.n,
          g.k,           g.lda,
          g.ldb,         g.ldc,
          g.stride_a,    g.stride_b,
          g.stride_c,    g.batch,
          g.beta != 0.f, align_1,
          align_2,       align_c,
          c_f32};
  cublasLtMatmulAlgo_t algo;
  bool have = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = algos.find(key);
    if (it != algos.end()) {
      algo = it->second;
      have = true;
    }
  }
  if (!have) {
    cublasLtMatmulPreference_t pref;
    TTT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = kWorkspace;
    TTT_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    for (auto [attr, value] : {std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_1},
                               std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_2},
                               std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_c},
                               std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_c}})
      TTT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof value));
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    TTT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(s.handle, desc, l1, l2, lc, lc, pref, 1, &res, &found));
    cublasLtMatmulPreferenceDestroy(pref);
    TTT_CHECK_RT(found > 0, "[gemm] cuBLASLt found no algorithm for m=", g.m, " n=", g.n, " k=", g.k,
                 " batch=", g.batch, " dtype ", dtype_name(dtype));
    algo = res.algo;
    std::lock_guard<std::mutex> lock(mu);
    algos[key] = algo;
  }
  float alpha = g.alpha, beta = g.beta;
  TTT_CUBLAS_CHECK(cublasLtMatmul(s.handle, desc, &alpha, g.b, l1, g.a, l2, &beta, g.c, lc, g.c, lc, &algo, s.workspace,
                                  kWorkspace, stream()));
  cublasLtMatrixLayoutDestroy(l1);
  cublasLtMatrixLayoutDestroy(l2);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(desc);
}

}  // namespace tttlm::kernels::cuda
