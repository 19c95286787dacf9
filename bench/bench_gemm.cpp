// GFLOP/s of f32 GEMM through tttlm's tensor API (ops::matmul) beside the raw library calls (dnnl_sgemm,
// OpenBLAS cblas_sgemm) and the machine's peak, at language-model shapes and the TTT layer's small batched
// shapes. Usage: bench_gemm [--peak GFLOPS] [--reps N] [--markdown]
//   Peak default: 448 GFLOP/s = 2 cores × 2 AVX-512 FMA pipes... set it for your machine.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/matmul.h"
#include "core/philox.h"

using namespace tttlm;

namespace {

double time_best(const std::function<void()>& f, int reps) {
  f();  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
  }
  return best;
}

Tensor rand_tensor(const Shape& s, uint64_t seed) {
  std::vector<float> v(shape_numel(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(philox::normal(seed, 0, i));
  return Tensor::from_vector(v, s);
}

struct Row {
  std::string name;
  int64_t batch, m, n, k;
};

}  // namespace

int main(int argc, char** argv) {
  double peak = 448.0;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--peak") && i + 1 < argc) peak = std::atof(argv[++i]);
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
  }
  autograd::NoGradGuard ng;
  std::vector<Row> rows;
  for (int64_t mk : {1, 2})
    for (auto [k, n] : std::vector<std::pair<int64_t, int64_t>>{
             {768, 768}, {768, 2048}, {2048, 768}, {2048, 2048}, {768, 3072}, {2048, 5504}, {5504, 2048}})
      rows.push_back({"lm", 1, 2048 * mk, n, k});
  rows.push_back({"ttt 16x64x64", 96, 16, 64, 64});
  rows.push_back({"ttt 64x64x64", 96, 64, 64, 64});
  rows.push_back({"ttt 16x16x64", 96, 16, 16, 64});

  std::printf("threads: %d, peak: %.0f GFLOP/s\n\n", omp_get_max_threads(), peak);
  std::printf(
      "| shape (batch x M x N x K) | tttlm matmul GFLOP/s | dnnl_sgemm GFLOP/s | OpenBLAS sgemm GFLOP/s | tttlm / best "
      "raw | tttlm / peak |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    Tensor a = rand_tensor(r.batch > 1 ? Shape{r.batch, r.m, r.k} : Shape{r.m, r.k}, 1);
    Tensor b = rand_tensor(r.batch > 1 ? Shape{r.batch, r.k, r.n} : Shape{r.k, r.n}, 2);
    Tensor c = Tensor::zeros(r.batch > 1 ? Shape{r.batch, r.m, r.n} : Shape{r.m, r.n}, Dtype::f32);
    const float* A = a.data<float>();
    const float* B = b.data<float>();
    float* C = c.data<float>();
    double flops = 2.0 * r.batch * r.m * r.n * r.k;
    double t_api = time_best([&] { ops::matmul(a, b); }, reps);
    // Raw library calls: a single call for one matrix; a batch loops with one matrix per thread for small
    // shapes (the best simple use of each library).
    auto raw = [&](auto one) {
      if (r.batch == 1) {
        one(0);
      } else {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < r.batch; ++i) one(i);
      }
    };
    double t_dnnl = time_best(
        [&] {
          raw([&](int64_t i) {
            dnnl_sgemm('N', 'N', r.m, r.n, r.k, 1.f, A + i * r.m * r.k, r.k, B + i * r.k * r.n, r.n, 0.f,
                       C + i * r.m * r.n, r.n);
          });
        },
        reps);
    double t_blas = time_best(
        [&] {
          raw([&](int64_t i) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r.m, r.n, r.k, 1.f, A + i * r.m * r.k, r.k,
                        B + i * r.k * r.n, r.n, 0.f, C + i * r.m * r.n, r.n);
          });
        },
        reps);
    double g_api = flops / t_api / 1e9, g_dnnl = flops / t_dnnl / 1e9, g_blas = flops / t_blas / 1e9;
    std::printf("| %s %lld x %lld x %lld x %lld | %.1f | %.1f | %.1f | %.2f | %.2f |\n", r.name.c_str(),
                (long long)r.batch, (long long)r.m, (long long)r.n, (long long)r.k, g_api, g_dnnl, g_blas,
                g_api / std::max(g_dnnl, g_blas), g_api / peak);
  }
  return 0;
}
