// The block scheduler: fibers on pooled, guarded stacks; barriers; shuffled order; launch checks.
#include "cudaemu/block.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <map>
#include <set>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define TTT_EMU_ASAN 1
#else
#define TTT_EMU_ASAN 0
#endif

namespace tttlm::cudaemu {

namespace ctx = boost::context;

namespace {

// ---- stacks: 256 KiB each, a PROT_NONE page below, mapped once per host thread and reused ----
constexpr size_t kStackBytes = 256 * 1024;

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

struct StackPool {
  std::vector<void*> free;  // bases (the guard page's address)
  ~StackPool() {
    for (void* b : free) munmap(b, kStackBytes + page_size());
  }
};
thread_local StackPool stack_pool;

struct PooledStack {
  const void** bottom;  // where to record the stack's lowest usable address (for AddressSanitizer)
  ctx::stack_context allocate() {
    void* base;
    if (!stack_pool.free.empty()) {
      base = stack_pool.free.back();
      stack_pool.free.pop_back();
    } else {
      base = mmap(nullptr, kStackBytes + page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      mprotect(base, page_size(), PROT_NONE);
    }
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = static_cast<char*>(base) + page_size() + kStackBytes;
    *bottom = static_cast<char*>(base) + page_size();
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept {
    stack_pool.free.push_back(static_cast<char*>(sc.sp) - kStackBytes - page_size());
  }
};

// ---- dynamic shared memory: the block's bytes end exactly at a PROT_NONE page ----
struct SharedArena {
  char* base = nullptr;
  size_t mapped = 0;  // bytes before the guard page
  ~SharedArena() {
    if (base) munmap(base, mapped + page_size());
  }
  char* get(size_t bytes) {
    size_t need = (bytes + 15) / 16 * 16;
    if (need > mapped) {
      if (base) munmap(base, mapped + page_size());
      mapped = (need + page_size() - 1) / page_size() * page_size();
      void* p = mmap(nullptr, mapped + page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      base = static_cast<char*>(p);
      mprotect(base + mapped, page_size(), PROT_NONE);
    }
    char* start = base + mapped - need;
    std::memset(start, 0xFF, need);  // uninitialised shared memory reads as NaN
    return start;
  }
};
thread_local SharedArena shared_arena;

// ---- threads and blocks ----
enum class State { ready, at_block, at_warp, done, faulted };

struct Thread {
  uint3 idx{};
  int lane = 0, warp = 0;
  State state = State::ready;
  const char* site = "";
  unsigned mask = 0;
  ctx::fiber fiber;      // the thread, while suspended
  ctx::fiber scheduler;  // the scheduler, while the thread runs
  // Stack bounds for AddressSanitizer's fiber-switch annotations: the thread's, and the scheduler's.
  const void* stack_bottom = nullptr;
  const void* sched_bottom = nullptr;
  size_t sched_size = 0;
};

// AddressSanitizer must be told of every stack switch (no-ops in other builds).
inline void asan_start_switch(void** fake, const void* bottom, size_t size) {
#if TTT_EMU_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
inline void asan_finish_switch(void* fake, const void** old_bottom, size_t* old_size) {
#if TTT_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, old_bottom, old_size);
#else
  (void)fake, (void)old_bottom, (void)old_size;
#endif
}

struct Block {
  uint3 idx{};
  dim3 dim, grid;
  std::vector<Thread> threads;
  std::vector<unsigned char> slots;  // per warp: 32 lanes x 16 bytes of shuffle exchange
  char* dynamic = nullptr;
  size_t dynamic_bytes = 0;
  std::string fault;
};

thread_local Block* cur_block = nullptr;
thread_local Thread* cur_thread = nullptr;

std::string site_text(const Thread& t) {
  return std::string(t.state == State::at_block ? "__syncthreads at " : "") + t.site;
}

std::string thread_name(const Block& b, const Thread& t) {
  return "thread (" + std::to_string(t.idx.x) + "," + std::to_string(t.idx.y) + "," + std::to_string(t.idx.z) +
         ") of block (" + std::to_string(b.idx.x) + "," + std::to_string(b.idx.y) + "," + std::to_string(b.idx.z) + ")";
}

void yield_to_scheduler(Thread* self) {
  void* fake = nullptr;
  asan_start_switch(&fake, self->sched_bottom, self->sched_size);
  try {
    self->scheduler = std::move(self->scheduler).resume();
  } catch (const ctx::detail::forced_unwind&) {  // the scheduler abandons this block (after a fault)
    asan_finish_switch(fake, &self->sched_bottom, &self->sched_size);
    throw;
  }
  asan_finish_switch(fake, &self->sched_bottom, &self->sched_size);
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t base_seed() {
  static const uint64_t s = [] {
    const char* e = std::getenv("TTTLM_CUDA_EMU_SEED");
    return e ? std::strtoull(e, nullptr, 10) : 0x5EEDull;
  }();
  return s;
}

// Releases every warp group whose lanes have all arrived. Returns true when any was released; sets
// `fault` when a group can never complete (a named lane exited or does not exist).
bool release_warps(Block& b) {
  bool released = false;
  const int n = static_cast<int>(b.threads.size());
  for (int i = 0; i < n && b.fault.empty(); ++i) {
    Thread& t = b.threads[i];
    if (t.state != State::at_warp) continue;
    const int first = i - t.lane;
    bool complete = true;
    for (int l = 0; l < kWarpSize; ++l) {
      if (!(t.mask >> l & 1u)) continue;
      if (first + l >= n) {
        b.fault = thread_name(b, t) + ": " + t.site + " names lane " + std::to_string(l) +
                  ", which does not exist (the block has " + std::to_string(n) + " threads)";
        return false;
      }
      const Thread& o = b.threads[first + l];
      if (o.state == State::done) {
        b.fault = thread_name(b, t) + ": " + t.site + " waits for lane " + std::to_string(l) + ", which has exited";
        return false;
      }
      if (o.state != State::at_warp || o.mask != t.mask) complete = false;
    }
    if (!complete) continue;
    for (int l = 0; l < kWarpSize; ++l)
      if (t.mask >> l & 1u) b.threads[first + l].state = State::ready;
    released = true;
  }
  return released;
}

// Runs one block to completion or to its first fault.
void run_block(Block& b, const std::function<void()>& body, uint64_t seed) {
  const int n = static_cast<int>(b.threads.size());
  for (int i = 0; i < n; ++i) {
    Thread& t = b.threads[i];
    t.state = State::ready;
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t.stack_bottom}, [&t, &b, &body](ctx::fiber&& sched) {
      asan_finish_switch(nullptr, &t.sched_bottom, &t.sched_size);
      t.scheduler = std::move(sched);
      try {
        body();
      } catch (const ctx::detail::forced_unwind&) {
        asan_start_switch(nullptr, t.sched_bottom, t.sched_size);  // unwound: this fiber ends
        throw;
      } catch (const std::exception& e) {
        if (b.fault.empty()) b.fault = thread_name(b, t) + ": exception: " + e.what();
        t.state = State::faulted;
      }
      if (t.state != State::faulted) t.state = State::done;
      asan_start_switch(nullptr, t.sched_bottom, t.sched_size);  // this fiber ends
      return std::move(t.scheduler);
    });
  }
  std::vector<int> order;
  order.reserve(n);
  while (b.fault.empty()) {
    order.clear();
    for (int i = 0; i < n; ++i)
      if (b.threads[i].state == State::ready) order.push_back(i);
    if (!order.empty()) {
      for (int i = static_cast<int>(order.size()) - 1; i > 0; --i)
        std::swap(order[i], order[splitmix(seed) % static_cast<uint64_t>(i + 1)]);
      for (int i : order) {
        Thread& t = b.threads[i];
        cur_thread = &t;
        void* fake = nullptr;
        asan_start_switch(&fake, t.stack_bottom, kStackBytes);
        t.fiber = std::move(t.fiber).resume();
        asan_finish_switch(fake, nullptr, nullptr);
        cur_thread = nullptr;
        if (!b.fault.empty()) break;
      }
      continue;
    }
    if (release_warps(b) || !b.fault.empty()) continue;
    const Thread* barrier = nullptr;
    int live = 0;
    for (const Thread& t : b.threads) {
      if (t.state == State::done) continue;
      ++live;
      if (t.state == State::at_warp) {
        b.fault = thread_name(b, t) + " waits in " + t.site + " while other lanes of its mask wait elsewhere";
        break;
      }
      if (!barrier) {
        barrier = &t;
      } else if (t.site != barrier->site && std::strcmp(t.site, barrier->site) != 0) {
        b.fault = "threads wait at different barriers: " + thread_name(b, *barrier) + " at " + site_text(*barrier) +
                  ", " + thread_name(b, t) + " at " + site_text(t);
        break;
      }
    }
    if (!b.fault.empty() || live == 0) break;
    for (Thread& t : b.threads)
      if (t.state == State::at_block) t.state = State::ready;
  }
  // Unwinds the stacks of threads that did not finish (after a fault) and returns them to the pool.
  for (Thread& t : b.threads) {
    if (!t.fiber) continue;
    void* fake = nullptr;
    asan_start_switch(&fake, t.stack_bottom, kStackBytes);
    t.fiber = ctx::fiber();
    asan_finish_switch(fake, nullptr, nullptr);
  }
}

struct Attributes {
  std::mutex mu;
  std::map<const void*, size_t> max_dynamic;
};
Attributes& attributes() {
  static Attributes a;
  return a;
}

// Launch sites that ran, written at exit to $TTTLM_CUDA_EMU_LAUNCH_LOG (appended; one "file:line name" a
// line) so that a test can check that the suite executes every launch in kernels/cuda.
struct LaunchLog {
  std::mutex mu;
  std::set<std::string> sites;
  ~LaunchLog() {
    const char* path = std::getenv("TTTLM_CUDA_EMU_LAUNCH_LOG");
    if (!path || !*path) return;
    if (FILE* f = std::fopen(path, "a")) {
      for (const std::string& s : sites) std::fprintf(f, "%s\n", s.c_str());
      std::fclose(f);
    }
  }
};
LaunchLog launch_log;

thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_detail;
thread_local cudaError_t detail_code = cudaSuccess;
std::atomic<uint64_t> launch_counter{0};

}  // namespace

const uint3& thread_idx() { return cur_thread->idx; }
const uint3& block_idx() { return cur_block->idx; }
const dim3& block_dim() { return cur_block->dim; }
const dim3& grid_dim() { return cur_block->grid; }
int lane_id() { return cur_thread->lane; }

void sync_block(const char* site) {
  Thread* self = cur_thread;
  self->state = State::at_block;
  self->site = site;
  yield_to_scheduler(self);
}

void sync_warp(unsigned mask, const char* what) {
  Thread* self = cur_thread;
  if (!(mask >> self->lane & 1u))
    device_fault((std::string(what) + " called by a lane that is not in its mask").c_str());
  self->state = State::at_warp;
  self->mask = mask;
  self->site = what;
  yield_to_scheduler(self);
}

void warp_exchange(unsigned mask, const void* in, void* out, int src, size_t nbytes, const char* what) {
  Block& b = *cur_block;
  Thread* self = cur_thread;
  unsigned char* warp_slots = b.slots.data() + static_cast<size_t>(self->warp) * kWarpSize * 16;
  std::memcpy(warp_slots + self->lane * 16, in, nbytes);
  sync_warp(mask, what);
  if (src >= 0 && src != self->lane) {
    if (!(mask >> src & 1u))
      device_fault((std::string(what) + " reads lane " + std::to_string(src) + ", which is not in its mask").c_str());
    std::memcpy(out, warp_slots + src * 16, nbytes);
  } else {
    std::memcpy(out, in, nbytes);
  }
  sync_warp(mask, what);  // nobody overwrites a slot before every lane has read it
}

void* dynamic_shared(size_t align) {
  Block& b = *cur_block;
  if (reinterpret_cast<uintptr_t>(b.dynamic) % align != 0) device_fault("dynamic shared memory misaligned");
  return b.dynamic;
}

void device_fault(const char* what) {
  Thread* self = cur_thread;
  if (cur_block->fault.empty()) cur_block->fault = thread_name(*cur_block, *self) + ": " + what;
  self->state = State::faulted;
  yield_to_scheduler(self);
  std::abort();  // never resumed
}

cudaError_t set_max_dynamic_shared(const void* function, int bytes) {
  if (bytes < 0 || static_cast<size_t>(bytes) > kOptinSharedPerBlock) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(attributes().mu);
  attributes().max_dynamic[function] = static_cast<size_t>(bytes);
  return cudaSuccess;
}

cudaError_t run_grid(const LaunchConfig& c, const std::function<void()>& thread_body) {
  const dim3 g = c.grid, bd = c.block;
  const uint64_t threads = uint64_t(bd.x) * bd.y * bd.z;
  auto config_error = [&](const std::string& why) {
    record_error(cudaErrorInvalidConfiguration, std::string("kernel ") + c.name + ": " + why);
    return cudaErrorInvalidConfiguration;
  };
  if (bd.x == 0 || bd.y == 0 || bd.z == 0 || threads > kMaxThreadsPerBlock || bd.x > 1024 || bd.y > 1024 ||
      bd.z > kMaxBlockDimZ)
    return config_error("block (" + std::to_string(bd.x) + "," + std::to_string(bd.y) + "," + std::to_string(bd.z) +
                        ") exceeds the limits (1024 threads; 1024, 1024, 64)");
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > kMaxGridX || g.y > kMaxGridYZ || g.z > kMaxGridYZ)
    return config_error("grid (" + std::to_string(g.x) + "," + std::to_string(g.y) + "," + std::to_string(g.z) +
                        ") exceeds the limits (2^31-1, 65535, 65535)");
  size_t limit = kDefaultSharedPerBlock;
  {
    std::lock_guard<std::mutex> lock(attributes().mu);
    auto it = attributes().max_dynamic.find(c.function);
    if (it != attributes().max_dynamic.end()) limit = it->second;
  }
  if (c.shared_bytes > limit) {
    record_error(cudaErrorInvalidValue, std::string("kernel ") + c.name + ": " + std::to_string(c.shared_bytes) +
                                            " bytes of dynamic shared memory, limit " + std::to_string(limit) +
                                            (limit == kDefaultSharedPerBlock ? " (raise it with cudaFuncSetAttribute)"
                                                                             : " (set by cudaFuncSetAttribute)"));
    return cudaErrorInvalidValue;
  }

  {
    std::lock_guard<std::mutex> lock(launch_log.mu);
    launch_log.sites.insert(std::string(c.site) + " " + c.name);
  }
  Block b;
  b.dim = bd;
  b.grid = g;
  b.threads.resize(threads);
  b.slots.assign((threads + kWarpSize - 1) / kWarpSize * kWarpSize * 16, 0);
  for (uint64_t i = 0; i < threads; ++i) {
    Thread& t = b.threads[i];
    t.idx = make_uint3(static_cast<unsigned>(i % bd.x), static_cast<unsigned>(i / bd.x % bd.y),
                       static_cast<unsigned>(i / (uint64_t(bd.x) * bd.y)));
    t.lane = static_cast<int>(i % kWarpSize);
    t.warp = static_cast<int>(i / kWarpSize);
  }
  const uint64_t launch = launch_counter.fetch_add(1);
  Block* outer_block = cur_block;
  cur_block = &b;
  for (unsigned z = 0; z < g.z && b.fault.empty(); ++z)
    for (unsigned y = 0; y < g.y && b.fault.empty(); ++y)
      for (unsigned x = 0; x < g.x && b.fault.empty(); ++x) {
        b.idx = make_uint3(x, y, z);
        b.dynamic_bytes = c.shared_bytes;
        b.dynamic = c.shared_bytes ? shared_arena.get(c.shared_bytes) : nullptr;
        uint64_t seed = base_seed() ^ (launch * 0x100000001B3ull) ^ ((uint64_t(z) * g.y + y) * g.x + x) << 1;
        run_block(b, thread_body, seed);
      }
  cur_block = outer_block;
  if (!b.fault.empty()) {
    record_error(cudaErrorLaunchFailure, std::string("kernel ") + c.name + ": " + b.fault);
    return cudaErrorLaunchFailure;
  }
  return cudaSuccess;
}

void record_error(cudaError_t err, const std::string& message) {
  if (last_error == cudaSuccess) last_error = err;
  detail_code = err;
  last_detail = message;
}

cudaError_t take_last_error() {
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

cudaError_t peek_last_error() { return last_error; }

const char* last_error_detail() { return last_detail.c_str(); }

cudaError_t last_detail_code() { return detail_code; }

}  // namespace tttlm::cudaemu
