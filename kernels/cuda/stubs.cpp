// kernels::cuda in a build without CUDA: every entry point links and throws, naming itself, so a CPU-only
// build fails loudly (never silently) if a CUDA tensor ever reaches a kernel. Keep in step with the
// declarations in kernels/*.h: a missing stub is a link error in the CPU build.
#include "core/error.h"
#include "kernels/copy.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"
#include "kernels/ttt.h"

#define TTT_NO_CUDA(name) \
  throw ::tttlm::RuntimeError("[" name "] has no CUDA implementation in this build (built without CUDA)")

namespace tttlm::kernels::cuda {

// copy.h
void copy_strided(Dtype, const void*, const StridedDesc&, Dtype, void*, int64_t) { TTT_NO_CUDA("copy_strided"); }
void copy_into(Dtype, const void*, const StridedDesc&, void*, const StridedDesc&, int64_t) {
  TTT_NO_CUDA("copy_into");
}
// elementwise.h
void binary_forward(BinaryOp, Dtype, const void*, const StridedDesc&, const void*, const StridedDesc&, void*,
                    int64_t) {
  TTT_NO_CUDA("binary_forward");
}
void affine_forward(Dtype, const void*, void*, int64_t, double, double) { TTT_NO_CUDA("affine_forward"); }
void axpy(Dtype, const void*, void*, int64_t, double) { TTT_NO_CUDA("axpy"); }
// gemm.h
void gemm(Dtype, const GemmArgs&) { TTT_NO_CUDA("gemm"); }
// reduce.h
void reduce_rows(ReduceOp, Dtype, const void*, void*, int64_t*, int64_t, int64_t) { TTT_NO_CUDA("reduce_rows"); }
void reduce_max_backward(Dtype, const void*, const int64_t*, void*, int64_t, int64_t) {
  TTT_NO_CUDA("reduce_max_backward");
}
// ttt.h
void ttt_linear_forward(Dtype, const TttDims&, const TttSequence&, const TttLinearParams&, void*, void*) {
  TTT_NO_CUDA("ttt_linear_forward");
}
void ttt_linear_backward(Dtype, const TttDims&, const TttSequence&, const void*, const void*, const TttSequenceGrads&,
                         const TttLinearGrads&) {
  TTT_NO_CUDA("ttt_linear_backward");
}
void ttt_mlp_forward(Dtype, const TttDims&, const TttSequence&, const TttMlpParams&, void*, void*) {
  TTT_NO_CUDA("ttt_mlp_forward");
}
void ttt_mlp_backward(Dtype, const TttDims&, const TttSequence&, const void*, const void*, const TttSequenceGrads&,
                      const TttMlpGrads&) {
  TTT_NO_CUDA("ttt_mlp_backward");
}

}  // namespace tttlm::kernels::cuda
