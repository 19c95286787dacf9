// Caching CUDA allocator (built only with TTTLM_CUDA). Sizes are rounded to 512 B below 1 MiB and to
// 2 MiB above; a freed block goes to its device's free list and is reused by the smallest fitting request
// of at most twice its size, so small requests never pin huge blocks.
#include <cuda_runtime_api.h>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"
#include "core/cuda_check.h"

namespace tttlm {

namespace {

struct DeviceCache {
  std::multimap<size_t, void*> free_blocks;  // size -> block
  std::unordered_map<void*, size_t> live;    // block -> size
  CudaMemoryStats stats;
};

std::mutex mu;
std::vector<DeviceCache>& caches() {
  static std::vector<DeviceCache> c(64);
  return c;
}

size_t round_size(size_t n) {
  if (n == 0) n = 1;
  if (n < (1u << 20)) return (n + 511) / 512 * 512;
  return (n + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}

void release_cached(DeviceCache& c) {
  for (auto& [size, p] : c.free_blocks) {
    TTT_CUDA_CHECK_PRINT(cudaFree(p));
    c.stats.reserved -= size;
  }
  c.free_blocks.clear();
}

}  // namespace

void* cuda_alloc(size_t nbytes, int device) {
  std::lock_guard<std::mutex> lock(mu);
  DeviceCache& c = caches().at(device);
  size_t size = round_size(nbytes);
  auto it = c.free_blocks.lower_bound(size);
  if (it != c.free_blocks.end() && it->first <= 2 * size) {
    void* p = it->second;
    size_t got = it->first;
    c.free_blocks.erase(it);
    c.live[p] = got;
    c.stats.allocated += got;
    c.stats.peak_allocated = std::max(c.stats.peak_allocated, c.stats.allocated);
    return p;
  }
  int prev = 0;
  TTT_CUDA_CHECK(cudaGetDevice(&prev));
  if (prev != device) TTT_CUDA_CHECK(cudaSetDevice(device));
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    TTT_CUDA_CHECK(cudaDeviceSynchronize());
    release_cached(c);
    err = cudaMalloc(&p, size);
  }
  if (err != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    if (prev != device) cudaSetDevice(prev);
    throw RuntimeError(detail::concat("[cuda_alloc] out of memory on cuda:", device, ": asked for ", nbytes, " bytes (",
                                      size, " rounded); ", free_b, " of ", total_b, " bytes free; tttlm holds ",
                                      c.stats.allocated, " bytes in use and ", c.stats.reserved - c.stats.allocated,
                                      " cached (", cudaGetErrorString(err), ")"));
  }
  if (prev != device) TTT_CUDA_CHECK(cudaSetDevice(prev));
  c.live[p] = size;
  c.stats.allocated += size;
  c.stats.reserved += size;
  c.stats.peak_allocated = std::max(c.stats.peak_allocated, c.stats.allocated);
  return p;
}

void cuda_free(void* p, int device) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mu);
  DeviceCache& c = caches().at(device);
  auto it = c.live.find(p);
  if (it == c.live.end()) return;
  c.stats.allocated -= it->second;
  c.free_blocks.emplace(it->second, p);
  c.live.erase(it);
}

CudaMemoryStats cuda_memory_stats(int device) {
  std::lock_guard<std::mutex> lock(mu);
  return caches().at(device).stats;
}

void cuda_reset_peak_memory(int device) {
  std::lock_guard<std::mutex> lock(mu);
  auto& s = caches().at(device).stats;
  s.peak_allocated = s.allocated;
}

void cuda_empty_cache() {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& c : caches()) release_cached(c);
}

}  // namespace tttlm
