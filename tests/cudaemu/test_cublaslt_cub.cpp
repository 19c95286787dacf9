// The emulator's cuBLASLt and CUB stand-ins against plain loops: layouts, transposes, leading dimensions,
// batch strides, beta, bf16; the alignment an algorithm assumes; CUB's two-call protocol and stability.
#include <catch2/catch.hpp>
#include <cublasLt.h>
#include <cuda_bf16.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cudaemu/cub_radix_sort.h"

namespace {

struct Matmul {
  cublasLtHandle_t h{};
  cublasLtMatmulDesc_t desc{};
  cublasLtMatrixLayout_t la{}, lb{}, lc{};
  cublasLtMatmulAlgo_t algo{};
  Matmul(bool ta, bool tb, uint64_t m, uint64_t n, uint64_t k, int64_t lda, int64_t ldb, int64_t ldc, int32_t batch,
         int64_t sa, int64_t sb, int64_t sc, uint32_t align = 0, cudaDataType t = CUDA_R_32F) {
    REQUIRE(cublasLtCreate(&h) == CUBLAS_STATUS_SUCCESS);
    REQUIRE(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS);
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &oa, sizeof oa);
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &ob, sizeof ob);
    cublasLtMatrixLayoutCreate(&la, t, ta ? k : m, ta ? m : k, lda);
    cublasLtMatrixLayoutCreate(&lb, t, tb ? n : k, tb ? k : n, ldb);
    cublasLtMatrixLayoutCreate(&lc, t, m, n, ldc);
    for (auto [l, s] : {std::pair{la, sa}, std::pair{lb, sb}, std::pair{lc, sc}}) {
      cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch);
      cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &s, sizeof s);
    }
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    if (align)
      for (auto a : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                     CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
        cublasLtMatmulPreferenceSetAttribute(pref, a, &align, sizeof align);
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    REQUIRE(cublasLtMatmulAlgoGetHeuristic(h, desc, la, lb, lc, lc, pref, 1, &res, &found) == CUBLAS_STATUS_SUCCESS);
    REQUIRE(found == 1);
    algo = res.algo;
    cublasLtMatmulPreferenceDestroy(pref);
  }
  cublasStatus_t run(const void* a, const void* b, void* c, float alpha, float beta) {
    return cublasLtMatmul(h, desc, &alpha, a, la, b, lb, &beta, c, lc, c, lc, &algo, nullptr, 0, nullptr);
  }
  ~Matmul() {
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(desc);
    cublasLtDestroy(h);
  }
};

template <class T>
T* dev(size_t n) {
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, n * sizeof(T)) == cudaSuccess);
  return static_cast<T*>(p);
}

}  // namespace

TEST_CASE("cuBLASLt stand-in: column-major batched GEMM with transposes, padding, strides and beta", "[cudaemu]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const uint64_t m = 5, n = 3, k = 4;
      const int64_t lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
      const int32_t batch = 3;
      const int64_t sa = lda * (ta ? m : k) + 1, sb = ldb * (tb ? k : n), sc = ldc * n + 2;
      std::vector<float> A(sa * batch), B(sb * batch), C(sc * batch);
      for (auto* v : {&A, &B, &C})
        for (float& x : *v) x = u(rng);
      float *dA = dev<float>(A.size()), *dB = dev<float>(B.size()), *dC = dev<float>(C.size());
      cudaMemcpy(dA, A.data(), A.size() * 4, cudaMemcpyHostToDevice);
      cudaMemcpy(dB, B.data(), B.size() * 4, cudaMemcpyHostToDevice);
      cudaMemcpy(dC, C.data(), C.size() * 4, cudaMemcpyHostToDevice);
      Matmul mm(ta, tb, m, n, k, lda, ldb, ldc, batch, sa, sb, sc, 4);
      REQUIRE(mm.run(dA, dB, dC, 0.5f, 2.f) == CUBLAS_STATUS_SUCCESS);
      std::vector<float> got(C.size());
      cudaMemcpy(got.data(), dC, C.size() * 4, cudaMemcpyDeviceToHost);
      for (int b = 0; b < batch; ++b)
        for (uint64_t i = 0; i < m; ++i)
          for (uint64_t j = 0; j < n; ++j) {
            double s = 0;
            for (uint64_t p = 0; p < k; ++p) {
              double a = ta ? A[b * sa + i * lda + p] : A[b * sa + p * lda + i];
              double bb = tb ? B[b * sb + p * ldb + j] : B[b * sb + j * ldb + p];
              s += a * bb;
            }
            CHECK(got[b * sc + j * ldc + i] == Approx(0.5 * s + 2.0 * C[b * sc + j * ldc + i]).margin(1e-5));
          }
      // Padding between columns and batches is untouched.
      CHECK(got[m] == C[m]);
      cudaFree(dA);
      cudaFree(dB);
      cudaFree(dC);
    }
}

TEST_CASE("cuBLASLt stand-in: beta 0 never reads C, and bf16 rounds the result", "[cudaemu]") {
  float* d = dev<float>(2 * 2 + 2 * 2 + 2 * 2);  // fresh device memory is NaN
  std::vector<float> ab = {1, 2, 3, 4, 1, 0, 0, 1};
  cudaMemcpy(d, ab.data(), 8 * 4, cudaMemcpyHostToDevice);
  Matmul mm(false, false, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0, 4);
  REQUIRE(mm.run(d, d + 4, d + 8, 1.f, 0.f) == CUBLAS_STATUS_SUCCESS);
  std::vector<float> c(4);
  cudaMemcpy(c.data(), d + 8, 16, cudaMemcpyDeviceToHost);
  CHECK(c == std::vector<float>{1, 2, 3, 4});
  cudaFree(d);

  auto* h = dev<__nv_bfloat16>(3);
  std::vector<__nv_bfloat16> in = {__float2bfloat16(1.0078125f), __float2bfloat16(1.f), __float2bfloat16(0.f)};
  cudaMemcpy(h, in.data(), 6, cudaMemcpyHostToDevice);
  Matmul mb(false, false, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, CUDA_R_16BF);
  REQUIRE(mb.run(h, h + 1, h + 2, 3.f, 0.f) == CUBLAS_STATUS_SUCCESS);
  __nv_bfloat16 r;
  cudaMemcpy(&r, h + 2, 2, cudaMemcpyDeviceToHost);
  CHECK(__bfloat162float(r) == __bfloat162float(__float2bfloat16(3.f * 1.0078125f)));
  cudaFree(h);
}

TEST_CASE("cuBLASLt stand-in: an algorithm chosen for aligned operands fails on an offset pointer", "[cudaemu]") {
  float* d = dev<float>(64);
  std::vector<float> ones(64, 1.f);
  cudaMemcpy(d, ones.data(), 256, cudaMemcpyHostToDevice);
  Matmul aligned(false, false, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0);  // the preference's default: 256 bytes
  CHECK(aligned.run(d, d + 16, d + 32, 1.f, 0.f) == CUBLAS_STATUS_SUCCESS);
  CHECK(aligned.run(d + 1, d + 16, d + 32, 1.f, 0.f) == CUBLAS_STATUS_EXECUTION_FAILED);
  cudaError_t e = cudaGetLastError();
  CHECK(e == cudaErrorMisalignedAddress);
  Matmul declared(false, false, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0, 4);
  CHECK(declared.run(d + 1, d + 16, d + 32, 1.f, 0.f) == CUBLAS_STATUS_SUCCESS);
  // An operand whose footprint runs past its allocation is an illegal address.
  Matmul big(false, false, 8, 8, 8, 8, 8, 8, 1, 0, 0, 0, 4);
  CHECK(big.run(d, d, d + 32, 1.f, 0.f) == CUBLAS_STATUS_EXECUTION_FAILED);
  CHECK(cudaGetLastError() == cudaErrorIllegalAddress);
  cudaFree(d);
}

TEST_CASE("CUB stand-in: the size query, then a stable sort of signed keys by the given bits", "[cudaemu]") {
  std::vector<int32_t> keys = {3, -1, 3, 0, -1, 7, 0, 3};
  std::vector<int64_t> vals = {0, 1, 2, 3, 4, 5, 6, 7};
  const int n = static_cast<int>(keys.size());
  auto *ki = dev<int32_t>(n), *ko = dev<int32_t>(n);
  auto *vi = dev<int64_t>(n), *vo = dev<int64_t>(n);
  cudaMemcpy(ki, keys.data(), n * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(vi, vals.data(), n * 8, cudaMemcpyHostToDevice);
  size_t temp = 0;
  REQUIRE(cub::DeviceRadixSort::SortPairs(nullptr, temp, ki, ko, vi, vo, n) == cudaSuccess);
  REQUIRE(temp > 0);
  void* small = nullptr;
  cudaMalloc(&small, temp - 1);
  size_t too_small = temp - 1;
  CHECK(cub::DeviceRadixSort::SortPairs(small, too_small, ki, ko, vi, vo, n) == cudaErrorInvalidValue);
  cudaGetLastError();
  void* t = nullptr;
  cudaMalloc(&t, temp);
  REQUIRE(cub::DeviceRadixSort::SortPairs(t, temp, ki, ko, vi, vo, n) == cudaSuccess);
  std::vector<int32_t> k(n);
  std::vector<int64_t> v(n);
  cudaMemcpy(k.data(), ko, n * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(v.data(), vo, n * 8, cudaMemcpyDeviceToHost);
  CHECK(k == std::vector<int32_t>{-1, -1, 0, 0, 3, 3, 3, 7});
  CHECK(v == std::vector<int64_t>{1, 4, 3, 6, 0, 2, 7, 5});
  for (void* p : {(void*)ki, (void*)ko, (void*)vi, (void*)vo, small, t}) cudaFree(p);
}
