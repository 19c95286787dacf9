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
#include "kernels/ttt.h"

// ---- Hand-written stubs: kernels/ttt.h does not declare its kernels with TTT_KERNEL yet. ----
// Convert ttt.h to TTT_KERNEL and this block goes (a stub left here would then be a duplicate definition).
namespace tttlm::kernels::cuda {

void ttt_linear_forward(Dtype, const TttDims&, const TttSequence&, const TttLinearParams&, void*, void*) {
  throw_no_cuda_kernel("ttt_linear_forward");
}
void ttt_linear_backward(Dtype, const TttDims&, const TttSequence&, const void*, const void*, const TttSequenceGrads&,
                         const TttLinearGrads&) {
  throw_no_cuda_kernel("ttt_linear_backward");
}
void ttt_mlp_forward(Dtype, const TttDims&, const TttSequence&, const TttMlpParams&, void*, void*) {
  throw_no_cuda_kernel("ttt_mlp_forward");
}
void ttt_mlp_backward(Dtype, const TttDims&, const TttSequence&, const void*, const void*, const TttSequenceGrads&,
                      const TttMlpGrads&) {
  throw_no_cuda_kernel("ttt_mlp_backward");
}

}  // namespace tttlm::kernels::cuda
// ---- End of the hand-written TTT stubs. ----
