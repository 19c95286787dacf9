// Check macros for CUDA runtime calls, for files compiled only in CUDA builds. A failure throws
// RuntimeError with file:line, the call's text and CUDA's message. TTT_CUDA_CHECK_PRINT is for destructors.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>

#include "core/error.h"

#define TTT_CUDA_CHECK(expr)                                                                                         \
  do {                                                                                                               \
    cudaError_t ttt_err_ = (expr);                                                                                   \
    if (ttt_err_ != cudaSuccess)                                                                                     \
      throw ::tttlm::RuntimeError(                                                                                   \
          ::tttlm::detail::concat(__FILE__, ":", __LINE__, ": ", #expr, " failed: ", cudaGetErrorString(ttt_err_))); \
  } while (0)

#define TTT_CUDA_CHECK_PRINT(expr)                                                                             \
  do {                                                                                                         \
    cudaError_t ttt_err_ = (expr);                                                                             \
    if (ttt_err_ != cudaSuccess)                                                                               \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(ttt_err_)); \
  } while (0)

// After every kernel launch.
#define TTT_CUDA_CHECK_LAUNCH() TTT_CUDA_CHECK(cudaGetLastError())
