// The CUDA emulator's execution engine: runs a kernel's grid on the CPU under CUDA's execution rules.
// Each block's threads run as fibers. Between two synchronisation points the threads of a block run one
// after another in a shuffled order (seeded, reproducible), so code that reads another thread's result
// without a barrier sees a different order than the one it silently assumed and fails a parity test.
// Barriers are real: __syncthreads releases when every live thread of the block waits at the same
// barrier; __syncwarp and the shuffles release when every lane named in the mask has arrived with the
// same mask. Anything else (threads waiting at different barriers, a lane that exited while others wait
// for it) is a launch failure with a message, never a hang. See docs/cuda_emulation.md.
#pragma once

#include <cuda_runtime_api.h>
#include <vector_functions.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace tttlm::cudaemu {

// Built-in variables of the running thread and its block (valid only inside a kernel).
const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();

// Block barrier (__syncthreads). `site` names the source line for error messages.
void sync_block(const char* site);
// Warp barrier among the lanes in `mask` (__syncwarp, and the two halves of every shuffle).
void sync_warp(unsigned mask, const char* what);
// One shuffle: every lane in `mask` publishes `nbytes` of `in`, then reads lane `src`'s bytes into `out`.
// src < 0 means "keep my own value" (a source outside the lane's segment).
void warp_exchange(unsigned mask, const void* in, void* out, int src, size_t nbytes, const char* what);
// The lane index (0..31) of the running thread within its warp.
int lane_id();
// The block's dynamic shared memory (extern __shared__), `align`-aligned.
void* dynamic_shared(size_t align);
// Stops the block with a launch failure (a device-side fault: bad mask, trap).
[[noreturn]] void device_fault(const char* what);

struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes = 0;
  const void* function = nullptr;  // the kernel's address (key of cudaFuncSetAttribute)
  const char* name = "";
  const char* site = "";  // file:line of the launch
};

// Checks the configuration like the driver, then runs `thread_body` for every thread of every block.
// Returns cudaSuccess, cudaErrorInvalidConfiguration / cudaErrorInvalidValue (nothing ran), or
// cudaErrorLaunchFailure (a fault; the message is kept for cudaGetErrorString).
cudaError_t run_grid(const LaunchConfig& config, const std::function<void()>& thread_body);

// Per-kernel attribute set by cudaFuncSetAttribute(MaxDynamicSharedMemorySize).
cudaError_t set_max_dynamic_shared(const void* function, int bytes);

// The error the last failing call on this host thread recorded (consumed by cudaGetLastError), and the
// emulator's message for the most recent error (appended by cudaGetErrorString to that code's text).
void record_error(cudaError_t err, const std::string& message);
cudaError_t take_last_error();
cudaError_t peek_last_error();
cudaError_t last_detail_code();
const char* last_error_detail();

// Limits of the emulated device (an H100-class part, compute capability 9.0).
constexpr int kWarpSize = 32;
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxBlockDimZ = 64;
constexpr unsigned kMaxGridX = 2147483647u, kMaxGridYZ = 65535u;
constexpr size_t kDefaultSharedPerBlock = 48 * 1024;
constexpr size_t kOptinSharedPerBlock = 227 * 1024;

}  // namespace tttlm::cudaemu
