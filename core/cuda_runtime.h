// Thin, checked wrappers over the CUDA runtime that the rest of tttlm calls from plain C++. In a build
// without CUDA, cuda_is_available() is false and every other function throws RuntimeError saying so.
// The current stream is per thread and per process (the legacy default stream unless set); kernels
// launch on it, so work on one thread is ordered.
#pragma once

#include <cstddef>
#include <string>

namespace tttlm {

bool cuda_build_enabled();  // true when tttlm was compiled with TTTLM_CUDA
bool cuda_is_available();   // compiled with CUDA and at least one device is visible
// Visible devices; 0 when there is none. Throws RuntimeError with the runtime's message when the runtime
// fails for another reason (an old driver, no device nodes): that is an error, not "no GPU".
int cuda_device_count();
void cuda_set_device(int device);
int cuda_current_device();
void* cuda_current_stream();  // cudaStream_t as void*
void cuda_set_current_stream(void* stream);
void cuda_synchronize();

enum class CopyKind { host_to_device, device_to_host, device_to_device };
void cuda_memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind);
void cuda_memset_zero(void* p, size_t nbytes);

// Free and total memory of `device` as the driver reports them (cudaMemGetInfo; memory held in tttlm's own
// cache counts as used).
struct CudaMemoryInfo {
  size_t free_bytes = 0, total_bytes = 0;
};
CudaMemoryInfo cuda_memory_info(int device);

// "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" or the reason there is no device.
std::string cuda_device_description(int device);

}  // namespace tttlm
