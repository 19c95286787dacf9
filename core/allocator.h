// Memory. CPU: 64-byte aligned blocks (one AVX-512 vector); blocks of 1 MiB and more are cached and
// reused (up to 4 GiB cached). CUDA: a caching allocator. The two caches are the only
// process-wide state in tttlm: freed blocks are kept per device and size class and reused, so a training
// step does not call cudaMalloc after the first. Blocks are used on the current stream of their device
// (see cuda_runtime.h); freeing is stream-ordered with respect to that one stream.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tttlm {

// Throws RuntimeError naming the bytes asked for when the system is out of memory.
void* cpu_alloc(size_t nbytes);
void cpu_free(void* p);

struct CudaMemoryStats {
  size_t allocated = 0;       // bytes handed out and not yet freed
  size_t reserved = 0;        // bytes obtained from cudaMalloc (allocated + cached)
  size_t peak_allocated = 0;  // high-water mark of `allocated` since the last reset
};

// On CUDA out-of-memory the cache is released and the call retried once; then a RuntimeError reports the
// bytes asked for, the bytes free on the device, and what the allocator holds.
void* cuda_alloc(size_t nbytes, int device);
void cuda_free(void* p, int device);
CudaMemoryStats cuda_memory_stats(int device);
void cuda_reset_peak_memory(int device);
// Returns cached blocks to the driver.
void cuda_empty_cache();

}  // namespace tttlm
