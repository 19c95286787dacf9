// Device-side CUDA for the emulator: what a .cu file sees when it is compiled as C++ in a
// TTTLM_CUDA=EMU build. The toolkit's own headers supply the types (dim3, uint3, __nv_bfloat16, the
// runtime API declarations); this header supplies the execution model: the built-in variables,
// __syncthreads, __syncwarp, the warp shuffles, atomics, shared memory and the launch (TTT_LAUNCH).
// Static __shared__ variables are per host thread, and a host thread runs one block at a time, so
// every block sees its own copy; dynamic shared memory is a fresh, NaN-filled buffer per block that
// ends at a guard page. See docs/cuda_emulation.md for what this shows and what it cannot.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cudaemu/block.h"

#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __constant__
#define __global__
#define __device__
#define __host__
#define __constant__ static const
#define __shared__ static thread_local

#define threadIdx (::tttlm::cudaemu::thread_idx())
#define blockIdx (::tttlm::cudaemu::block_idx())
#define blockDim (::tttlm::cudaemu::block_dim())
#define gridDim (::tttlm::cudaemu::grid_dim())
#ifndef warpSize
#define warpSize 32
#endif

#define TTT_EMU_STR2(x) #x
#define TTT_EMU_STR(x) TTT_EMU_STR2(x)
#define __syncthreads() ::tttlm::cudaemu::sync_block(__FILE__ ":" TTT_EMU_STR(__LINE__))

namespace tttlm::cudaemu::device {

inline void syncwarp(unsigned mask = 0xffffffffu) { sync_warp(mask, "__syncwarp"); }

template <class T>
T shuffle(unsigned mask, T v, int src, const char* what) {
  static_assert(sizeof(T) <= 16 && std::is_trivially_copyable_v<T>, "shuffle of a type over 16 bytes");
  T out;
  warp_exchange(mask, &v, &out, src, sizeof(T), what);
  return out;
}

// Source lane of each shuffle; -1 keeps the caller's own value (a source outside its width segment).
inline int segment_start(int lane, int width) { return lane & ~(width - 1); }

template <class T>
T shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  int lane = lane_id();
  return shuffle(mask, v, segment_start(lane, width) + (src_lane & (width - 1)), "__shfl_sync");
}
template <class T>
T shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  int lane = lane_id(), src = lane ^ lane_mask;
  return shuffle(mask, v, src >= segment_start(lane, width) + width ? -1 : src, "__shfl_xor_sync");
}
template <class T>
T shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  int lane = lane_id(), src = lane + static_cast<int>(delta);
  return shuffle(mask, v, src >= segment_start(lane, width) + width ? -1 : src, "__shfl_down_sync");
}
template <class T>
T shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  int lane = lane_id(), src = lane - static_cast<int>(delta);
  return shuffle(mask, v, src < segment_start(lane, width) ? -1 : src, "__shfl_up_sync");
}

// Atomics are real atomics: several host threads may one day run blocks at once.
template <class T>
T atomic_add(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v);
}

}  // namespace tttlm::cudaemu::device

#define __syncwarp(...) ::tttlm::cudaemu::device::syncwarp(__VA_ARGS__)
#define __shfl_sync(...) ::tttlm::cudaemu::device::shfl_sync(__VA_ARGS__)
#define __shfl_xor_sync(...) ::tttlm::cudaemu::device::shfl_xor_sync(__VA_ARGS__)
#define __shfl_down_sync(...) ::tttlm::cudaemu::device::shfl_down_sync(__VA_ARGS__)
#define __shfl_up_sync(...) ::tttlm::cudaemu::device::shfl_up_sync(__VA_ARGS__)
#define atomicAdd(p, v) ::tttlm::cudaemu::device::atomic_add((p), (v))
#define __trap() ::tttlm::cudaemu::device_fault("__trap()")

// Device math that host C++ spells differently. CUDA's max/min of floating-point values are fmax/fmin:
// a NaN operand is dropped in favour of the other one (as on the GPU).
template <class A, class B>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>)
    return std::fmax(C(a), C(b));
  else
    return C(a) < C(b) ? C(b) : C(a);
}
template <class A, class B>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>)
    return std::fmin(C(a), C(b));
  else
    return C(b) < C(a) ? C(b) : C(a);
}
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __int_as_float(int v) {
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}
inline int __float_as_int(float v) {
  int i;
  std::memcpy(&i, &v, 4);
  return i;
}

// The typed overload that cuda_runtime.h declares only for nvcc.
template <class T>
inline cudaError_t cudaFuncSetAttribute(T* entry, cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(entry), attr, value);
}

// Dynamic shared memory: `TTT_DYNAMIC_SHARED(unsigned char, smem, 16);` in place of
// `extern __shared__ __align__(16) unsigned char smem[];`.
#define TTT_DYNAMIC_SHARED(T, name, align) T* name = static_cast<T*>(::tttlm::cudaemu::dynamic_shared(align))

namespace tttlm::cudaemu {

// The launch: TTT_LAUNCH(grid, block, shared_bytes, stream, kernel)(args...) runs every thread of the grid
// now (the emulator is synchronous) and records the launch's error for cudaGetLastError. The kernel is
// called through a generic lambda, so template kernels deduce their arguments as with <<<...>>>.
// TTT_LAUNCH_FN takes a kernel function pointer instead, which also names the kernel for the shared-memory
// limit that cudaFuncSetAttribute raised (without it a launch gets the 48 KiB default, as on a GPU).
template <class F>
struct Launcher {
  LaunchConfig config;
  F call;
  template <class... A>
  void operator()(A&&... args) const {
    std::tuple<std::decay_t<A>...> params(std::forward<A>(args)...);  // copied once, like kernel parameters
    std::function<void()> body = [&] { std::apply(call, params); };
    run_grid(config, body);
  }
};

template <class F>
Launcher<F> make_launcher(dim3 grid, dim3 block, size_t shared_bytes, const void* key, const char* name,
                          const char* site, F call) {
  return Launcher<F>{LaunchConfig{grid, block, shared_bytes, key, name, site}, std::move(call)};
}

}  // namespace tttlm::cudaemu

#define TTT_LAUNCH(grid, block, shared_bytes, stream, ...)                                \
  ::tttlm::cudaemu::make_launcher((grid), (block), (shared_bytes), nullptr, #__VA_ARGS__, \
                                  __FILE__ ":" TTT_EMU_STR(__LINE__),                     \
                                  [&](auto&&... ttt_a) { __VA_ARGS__(static_cast<decltype(ttt_a)>(ttt_a)...); })
#define TTT_LAUNCH_FN(grid, block, shared_bytes, stream, fn)                                               \
  ::tttlm::cudaemu::make_launcher((grid), (block), (shared_bytes), reinterpret_cast<const void*>(fn), #fn, \
                                  __FILE__ ":" TTT_EMU_STR(__LINE__),                                      \
                                  [&](auto&&... ttt_a) { (fn)(static_cast<decltype(ttt_a)>(ttt_a)...); })
