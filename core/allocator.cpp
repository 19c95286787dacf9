#include "core/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.h"

namespace tttlm {

// Blocks of 1 MiB and more are cached after free and reused by a request of the same rounded size class
// (up to 1/8 larger), so large temporaries (activations, logits, GEMM outputs) do not pay mmap and page
// faults on every step. At most kMaxCached bytes stay cached; smaller blocks go straight to malloc.
namespace {

constexpr size_t kLarge = size_t(1) << 20;
constexpr size_t kMaxCached = size_t(4) << 30;

struct CpuCache {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  std::map<void*, size_t> sizes;  // every large block handed out, with its rounded size
  size_t cached = 0;
};

CpuCache& cache() {
  static CpuCache* c = new CpuCache;  // never destroyed: blocks may be freed during static destruction
  return *c;
}

size_t round_large(size_t n) { return (n + kLarge - 1) / kLarge * kLarge; }

}  // namespace

void* cpu_alloc(size_t nbytes) {
  if (nbytes == 0) nbytes = 64;
  if (nbytes >= kLarge) {
    size_t size = round_large(nbytes);
    CpuCache& c = cache();
    {
      std::lock_guard<std::mutex> lock(c.mu);
      auto it = c.free_blocks.lower_bound(size);
      if (it != c.free_blocks.end() && it->first <= size + size / 8) {
        void* p = it->second;
        c.cached -= it->first;
        c.free_blocks.erase(it);
        return p;
      }
    }
    void* p = std::aligned_alloc(64, size);
    if (!p) {  // release the cache and retry once
      std::lock_guard<std::mutex> lock(c.mu);
      for (auto& [s, b] : c.free_blocks) {
        c.sizes.erase(b);
        std::free(b);
      }
      c.free_blocks.clear();
      c.cached = 0;
      p = std::aligned_alloc(64, size);
    }
    TTT_CHECK_RT(p != nullptr, "[cpu_alloc] out of memory: asked for ", nbytes, " bytes");
    std::lock_guard<std::mutex> lock(c.mu);
    c.sizes[p] = size;
    return p;
  }
  size_t rounded = (nbytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  TTT_CHECK_RT(p != nullptr, "[cpu_alloc] out of memory: asked for ", nbytes, " bytes");
  return p;
}

void cpu_free(void* p) {
  if (!p) return;
  CpuCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.sizes.find(p);
    if (it != c.sizes.end()) {
      if (c.cached + it->second <= kMaxCached) {
        c.free_blocks.emplace(it->second, p);
        c.cached += it->second;
        return;
      }
      c.sizes.erase(it);
    }
  }
  std::free(p);
}

}  // namespace tttlm
