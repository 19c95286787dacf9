// kernels::cuda in a build without CUDA (TTTLM_CUDA=OFF): every entry point links and throws, naming itself,
// so a CPU-only build fails loudly (never silently) if a CUDA tensor ever reaches a kernel.
//
// The stubs are generated: TTTLM_KERNEL_STUBS, defined before anything is included, makes TTT_KERNEL
// (kernels/declare.h) define each cuda:: kernel as a stub where it declares it, and kernel_headers.inc,
// written by kernels/CMakeLists.txt at configure time, includes every header in kernels/. A kernel declared
// with TTT_KERNEL, in a new header or an old one, therefore needs no edit here.
#define TTTLM_KERNEL_STUBS 1

// A stub ignores its (named) parameters.
#pragma GCC diagnostic ignored "-Wunused-parameter"

#include "core/error.h"
#include "kernel_headers.inc"
#include "kernels/declare.h"
