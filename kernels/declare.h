// How a kernel is declared: once, in its family header kernels/<family>.h, at global scope:
//
//   // y (n) = f(x), contiguous (y may equal x).
//   TTT_KERNEL(unary_forward, (Activation act, Dtype dtype, const void* x, void* y, int64_t n));
//
// declares `void unary_forward(...)` in both tttlm::kernels::cpu and tttlm::kernels::cuda (the parameter
// names stay, they document the kernel). The CPU definition lives in kernels/cpu/<family>.cpp, the CUDA one
// in kernels/cuda/<family>.cu, both inside their namespace with the same signature; ops call the pair through
// TTT_DISPATCH (kernels/dispatch.h). Every kernel returns void (results go through its pointer arguments).
//
// The CPU-only build (TTTLM_CUDA=OFF) compiles no .cu file. There kernels/cuda/stubs.cpp defines
// TTTLM_KERNEL_STUBS before including every family header, and in that one translation unit TTT_KERNEL also
// defines the cuda:: entry point as a stub that throws tttlm::RuntimeError naming the kernel. So a kernel
// added with TTT_KERNEL gets its stub with no further edit, and a CUDA tensor reaching a kernel in that build
// fails loudly, never silently.
//
// A kernel that exists on one backend only (kernels::cpu::gemm_bf16_f32) is declared plainly in its namespace.
#pragma once

#include "core/error.h"  // IWYU pragma: keep (the stubs throw RuntimeError)

namespace tttlm::kernels {
// What every CUDA kernel stub does. (Not in a `detail` namespace: tttlm::kernels::detail would hide
// tttlm::detail from code inside tttlm::kernels.)
[[noreturn]] inline void throw_no_cuda_kernel(const char* name) {
  throw RuntimeError(std::string("[") + name + "] has no CUDA implementation in this build (built without CUDA)");
}
}  // namespace tttlm::kernels

// The CUDA half of TTT_KERNEL: a declaration, or (in kernels/cuda/stubs.cpp of a CPU-only build) the stub.
// The stub's parameters are unused; stubs.cpp silences -Wunused-parameter for the whole file.
#if defined(TTTLM_KERNEL_STUBS)
#define TTT_KERNEL_CUDA_(name, params) \
  void name params { ::tttlm::kernels::throw_no_cuda_kernel(#name); }
#else
#define TTT_KERNEL_CUDA_(name, params) void name params;
#endif

// The trailing static_assert takes the semicolon written after TTT_KERNEL(...) (an empty declaration after a
// namespace's closing brace would trip -Wpedantic).
#define TTT_KERNEL(name, params)   \
  namespace tttlm::kernels::cpu {  \
  void name params;                \
  }                                \
  namespace tttlm::kernels::cuda { \
  TTT_KERNEL_CUDA_(name, params)   \
  }                                \
  static_assert(true, "TTT_KERNEL")
