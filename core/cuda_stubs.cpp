// The CUDA entry points of core/ in a build without CUDA: availability is false, everything else throws.
#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "core/error.h"

namespace tttlm {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw RuntimeError(std::string("[") + what +
                     "] this build of tttlm has no CUDA backend (configure with -DTTTLM_CUDA=ON and nvcc)");
}
}  // namespace

bool cuda_build_enabled() { return false; }
bool cuda_is_available() { return false; }
int cuda_device_count() { return 0; }
void cuda_set_device(int) { no_cuda("cuda_set_device"); }
int cuda_current_device() { no_cuda("cuda_current_device"); }
void* cuda_current_stream() { return nullptr; }
void cuda_set_current_stream(void*) { no_cuda("cuda_set_current_stream"); }
void cuda_synchronize() { no_cuda("cuda_synchronize"); }
void cuda_memcpy(void*, const void*, size_t, CopyKind) { no_cuda("cuda_memcpy"); }
void cuda_memset_zero(void*, size_t) { no_cuda("cuda_memset_zero"); }
CudaMemoryInfo cuda_memory_info(int) { no_cuda("cuda_memory_info"); }
std::string cuda_device_description(int) { return "no CUDA backend in this build"; }
void* cuda_alloc(size_t, int) { no_cuda("cuda_alloc"); }
void cuda_free(void*, int) {}
CudaMemoryStats cuda_memory_stats(int) { return {}; }
void cuda_reset_peak_memory(int) {}
void cuda_empty_cache() {}

}  // namespace tttlm
