// Built only with TTTLM_CUDA; core/cuda_stubs.cpp provides the same functions otherwise.
#include "core/cuda_runtime.h"

#include <cuda_runtime_api.h>

#include <string>

#include "core/cuda_check.h"

namespace tttlm {

namespace {
thread_local cudaStream_t current_stream = nullptr;
}

bool cuda_build_enabled() { return true; }

bool cuda_is_available() { return cuda_device_count() > 0; }

// No device is a count of 0; any other failure (an old driver, missing device nodes, a broken install) is
// an error with the runtime's message, never mistaken for "no GPU".
int cuda_device_count() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaSuccess) return n;
  cudaGetLastError();  // clear the sticky error
  if (err == cudaErrorNoDevice) return 0;
  throw RuntimeError(std::string("[cuda] the CUDA runtime failed to start: ") + cudaGetErrorName(err) + ": " +
                     cudaGetErrorString(err) + " (is the NVIDIA driver installed and as new as the toolkit?)");
}

void cuda_set_device(int device) { TTT_CUDA_CHECK(cudaSetDevice(device)); }

int cuda_current_device() {
  int d = 0;
  TTT_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void* cuda_current_stream() { return current_stream; }
void cuda_set_current_stream(void* stream) { current_stream = static_cast<cudaStream_t>(stream); }

void cuda_synchronize() { TTT_CUDA_CHECK(cudaDeviceSynchronize()); }

void cuda_memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind) {
  if (nbytes == 0) return;
  cudaMemcpyKind k = kind == CopyKind::host_to_device   ? cudaMemcpyHostToDevice
                     : kind == CopyKind::device_to_host ? cudaMemcpyDeviceToHost
                                                        : cudaMemcpyDeviceToDevice;
  TTT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, k, current_stream));
  if (kind == CopyKind::device_to_host) TTT_CUDA_CHECK(cudaStreamSynchronize(current_stream));
}

void cuda_memset_zero(void* p, size_t nbytes) {
  if (nbytes) TTT_CUDA_CHECK(cudaMemsetAsync(p, 0, nbytes, current_stream));
}

CudaMemoryInfo cuda_memory_info(int device) {
  int previous = cuda_current_device();
  TTT_CUDA_CHECK(cudaSetDevice(device));
  CudaMemoryInfo m;
  cudaError_t err = cudaMemGetInfo(&m.free_bytes, &m.total_bytes);
  TTT_CUDA_CHECK(cudaSetDevice(previous));
  TTT_CUDA_CHECK(err);
  return m;
}

std::string cuda_device_description(int device) {
  int n = cuda_device_count();
  if (device >= n) return "no CUDA device " + std::to_string(device) + " (" + std::to_string(n) + " visible)";
  cudaDeviceProp p;
  TTT_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  char gib[32];
  std::snprintf(gib, sizeof gib, "%.1f", p.totalGlobalMem / 1073741824.0);
  return std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " + gib + " GiB";
}

}  // namespace tttlm
