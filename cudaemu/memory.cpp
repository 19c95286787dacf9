#include "cudaemu/memory.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace tttlm::cudaemu {

namespace {

struct Allocation {
  size_t bytes;
  int device;
};

struct Registry {
  std::mutex mu;
  std::map<uintptr_t, Allocation> live;
  std::map<int, size_t> in_use;
};

Registry& registry() {
  static Registry* r = new Registry;  // outlives static destructors that free device memory
  return *r;
}

// The allocation containing p, or live.end().
std::map<uintptr_t, Allocation>::iterator find(Registry& r, uintptr_t p) {
  auto it = r.live.upper_bound(p);
  if (it == r.live.begin()) return r.live.end();
  --it;
  return p < it->first + it->second.bytes ? it : r.live.end();
}

}  // namespace

void* device_alloc(size_t bytes, int device) {
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0) return nullptr;
  std::memset(p, 0xFF, bytes);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.live[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes ? bytes : 1, device};
  r.in_use[device] += bytes;
  return p;
}

bool device_free(void* p) {
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.live.find(reinterpret_cast<uintptr_t>(p));
    if (it == r.live.end()) return false;
    r.in_use[it->second.device] -= it->second.bytes;
    r.live.erase(it);
  }
  std::free(p);
  return true;
}

bool is_device_range(const void* p, size_t bytes) { return describe_range(p, bytes).empty(); }

std::string describe_range(const void* p, size_t bytes) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = find(r, a);
  if (it == r.live.end()) return "not device memory (a host pointer, or freed)";
  const uintptr_t end = it->first + it->second.bytes;
  if (bytes > end - a)
    return "runs " + std::to_string(bytes - (end - a)) + " bytes past the end of its " +
           std::to_string(it->second.bytes) + "-byte device allocation";
  return "";
}

size_t device_bytes_in_use(int device) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.in_use[device];
}

namespace {
std::atomic<size_t> d2h_copies{0};
}
size_t device_to_host_copies() { return d2h_copies.load(); }
void count_device_to_host_copy() { ++d2h_copies; }

}  // namespace tttlm::cudaemu
