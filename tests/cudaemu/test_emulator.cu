// The CUDA emulator's own rules, checked with small kernels: barriers, shuffles, shared memory, launch
// limits, device memory, and the negative controls (a kernel missing a barrier, a kernel reading shared
// memory out of bounds) that must fail under it.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace {

using tttlm::kernels::cuda::block_sum;

// Tree reduction in shared memory; `with_barrier` false drops the barrier inside the loop.
__global__ void tree_sum_kernel(const float* x, float* out, bool with_barrier) {
  __shared__ float s[256];
  s[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  for (unsigned h = blockDim.x / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) s[threadIdx.x] += s[threadIdx.x + h];
    if (with_barrier) __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

__global__ void block_sum_kernel(const float* x, float* out) {
  float v = block_sum(x[threadIdx.x]);
  if (threadIdx.x == 0) out[0] = v;
}

__global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

__global__ void early_exit_shuffle_kernel(float* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

__global__ void shuffle_kernel(const int* in, int* xor_out, int* down_out, int* bcast_out) {
  int v = in[threadIdx.x];
  xor_out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 3);
  down_out[threadIdx.x] = __shfl_down_sync(0xffffffffu, v, 2, 8);
  bcast_out[threadIdx.x] = __shfl_sync(0xffffffffu, v, 7);
}

__global__ void dynamic_shared_kernel(float* out, int read_at) {
  TTT_DYNAMIC_SHARED(float, s, 16);
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[read_at + static_cast<int>(threadIdx.x)];
}

__global__ void noop_kernel(float*) {}

template <class T>
T* device_copy(const std::vector<T>& h) {
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, h.size() * sizeof(T)) == cudaSuccess);
  REQUIRE(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  return static_cast<T*>(p);
}
template <class T>
std::vector<T> host_copy(const T* d, size_t n) {
  std::vector<T> h(n);
  REQUIRE(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
  return h;
}

std::string last_error_text() {
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : cudaGetErrorString(e);
}

}  // namespace

TEST_CASE("emulator: a barrier-correct block reduction is exact; without its barrier it fails", "[cudaemu]") {
  std::vector<float> x(4 * 256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 97);
  float* dx = device_copy(x);
  float* dout = device_copy(std::vector<float>(4, 0.f));
  std::vector<double> expect(4, 0.0);
  for (size_t i = 0; i < x.size(); ++i) expect[i / 256] += x[i];

  TTT_LAUNCH(4, 256, 0, nullptr, tree_sum_kernel)(dx, dout, true);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  auto good = host_copy(dout, 4);
  for (int b = 0; b < 4; ++b) CHECK(good[b] == Approx(expect[b]));

  // Negative control: the shuffled order between barriers makes the missing barrier visible.
  TTT_LAUNCH(4, 256, 0, nullptr, tree_sum_kernel)(dx, dout, false);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  auto bad = host_copy(dout, 4);
  int wrong = 0;
  for (int b = 0; b < 4; ++b) wrong += bad[b] != Approx(expect[b]);
  CHECK(wrong == 4);
  cudaFree(dx);
  cudaFree(dout);
}

TEST_CASE("emulator: block_sum over warps (shuffles + shared memory) matches the host sum", "[cudaemu]") {
  for (int threads : {32, 96, 1024}) {
    std::vector<float> x(threads);
    double expect = 0;
    for (int i = 0; i < threads; ++i) expect += (x[i] = static_cast<float>((i * 7) % 13) - 6.f);
    float* dx = device_copy(x);
    float* dout = device_copy(std::vector<float>(1, 0.f));
    TTT_LAUNCH(1, threads, 0, nullptr, block_sum_kernel)(dx, dout);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    CHECK(host_copy(dout, 1)[0] == Approx(expect));
    cudaFree(dx);
    cudaFree(dout);
  }
}

TEST_CASE("emulator: shuffles follow CUDA's lane rules (xor, down within a width, broadcast)", "[cudaemu]") {
  std::vector<int> in(64);
  for (int i = 0; i < 64; ++i) in[i] = 100 + i;
  int* din = device_copy(in);
  int* dx = device_copy(std::vector<int>(64));
  int* dd = device_copy(std::vector<int>(64));
  int* db = device_copy(std::vector<int>(64));
  TTT_LAUNCH(1, 64, 0, nullptr, shuffle_kernel)(din, dx, dd, db);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  auto hx = host_copy(dx, 64), hd = host_copy(dd, 64), hb = host_copy(db, 64);
  for (int t = 0; t < 64; ++t) {
    const int lane = t % 32, warp0 = t - lane;
    CHECK(hx[t] == in[warp0 + (lane ^ 3)]);
    const int seg_end = (lane / 8 + 1) * 8;
    CHECK(hd[t] == (lane + 2 < seg_end ? in[t + 2] : in[t]));
    CHECK(hb[t] == in[warp0 + 7]);
  }
  cudaFree(din);
  cudaFree(dx);
  cudaFree(dd);
  cudaFree(db);
}

TEST_CASE("emulator: divergent barriers and shuffles with exited lanes are launch failures, not hangs", "[cudaemu]") {
  float* d = device_copy(std::vector<float>(64, 0.f));
  TTT_LAUNCH(1, 64, 0, nullptr, divergent_barrier_kernel)(d);
  cudaError_t e = cudaGetLastError();
  CHECK(e == cudaErrorLaunchFailure);
  CHECK_THAT(std::string(cudaGetErrorString(e)), Catch::Contains("different barriers"));
  TTT_LAUNCH(1, 32, 0, nullptr, early_exit_shuffle_kernel)(d);
  e = cudaGetLastError();
  CHECK(e == cudaErrorLaunchFailure);
  CHECK_THAT(std::string(cudaGetErrorString(e)), Catch::Contains("exited"));
  // The emulator goes on after a failure.
  TTT_LAUNCH(1, 64, 0, nullptr, noop_kernel)(d);
  CHECK(cudaGetLastError() == cudaSuccess);
  cudaFree(d);
}

TEST_CASE("emulator: launch limits are the driver's", "[cudaemu]") {
  float* d = device_copy(std::vector<float>(2048, 0.f));
  TTT_LAUNCH(1, 1025, 0, nullptr, noop_kernel)(d);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  TTT_LAUNCH(dim3(1, 65536), 32, 0, nullptr, noop_kernel)(d);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  TTT_LAUNCH(1, dim3(1, 1, 65), 0, nullptr, noop_kernel)(d);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);

  // Dynamic shared memory: 48 KiB by default, more only after cudaFuncSetAttribute, at most 227 KiB.
  auto* k = dynamic_shared_kernel;
  TTT_LAUNCH_FN(1, 64, 64 * 1024, nullptr, k)(d, 0);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  REQUIRE(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024) == cudaSuccess);
  TTT_LAUNCH_FN(1, 64, 64 * 1024, nullptr, k)(d, 0);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024) == cudaErrorInvalidValue);
  cudaGetLastError();
  cudaFree(d);
}

TEST_CASE("emulator: negative control, a kernel reading dynamic shared memory out of bounds fails", "[cudaemu]") {
  float* d = device_copy(std::vector<float>(64, 0.f));
  // In bounds: every thread reads its own slot back.
  TTT_LAUNCH(1, 64, 64 * sizeof(float), nullptr, dynamic_shared_kernel)(d, 0);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  auto h = host_copy(d, 64);
  for (int i = 0; i < 64; ++i) CHECK(h[i] == static_cast<float>(i));
  // Out of bounds: the block's shared memory ends at a guard page; the read kills the process.
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    TTT_LAUNCH(1, 64, 64 * sizeof(float), nullptr, dynamic_shared_kernel)(d, 64);  // s[64..127]: just past the end
    _exit(cudaGetLastError() == cudaSuccess ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
  cudaFree(d);
}

TEST_CASE("emulator: device memory starts as NaN and copies check which side is the device", "[cudaemu]") {
  void* p = nullptr;
  REQUIRE(cudaMalloc(&p, 16 * sizeof(float)) == cudaSuccess);
  std::vector<float> h(16, 0.f);
  REQUIRE(cudaMemcpy(h.data(), p, 16 * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
  for (float v : h) CHECK(std::isnan(v));
  // A host pointer as the destination of a host-to-device copy, and a copy past the allocation's end.
  CHECK(cudaMemcpy(h.data(), h.data(), 4, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK_THAT(last_error_text(), Catch::Contains("not device memory"));
  CHECK(cudaMemcpy(p, h.data(), 17 * sizeof(float), cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK_THAT(last_error_text(), Catch::Contains("past the end"));
  CHECK(cudaFree(h.data()) == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(cudaFree(p) == cudaSuccess);
}
