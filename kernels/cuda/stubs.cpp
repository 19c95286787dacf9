// kernels::cuda in a build without CUDA: every entry point links and throws, naming itself, so a CPU-only
// build fails loudly (never silently) if a CUDA tensor ever reaches a kernel. Keep in step with the
// declarations in kernels/*.h: a missing stub is a link error in the CPU build.
#include "core/error.h"
#include "kernels/copy.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"
#include "kernels/activation.h"
#include "kernels/norm.h"
#include "kernels/softmax.h"
#include "kernels/attention.h"
#include "kernels/conv.h"
#include "kernels/rope.h"
#include "kernels/embedding.h"
#include "kernels/cumsum.h"
#include "kernels/mask.h"
#include "kernels/adamw.h"
#include "kernels/random.h"
#include "kernels/scan.h"
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
// activation.h
void unary_forward(Activation, Dtype, const void*, void*, int64_t) { TTT_NO_CUDA("unary_forward"); }
void unary_backward(Activation, Dtype, const void*, const void*, void*, int64_t) {
  TTT_NO_CUDA("unary_backward");
}
// norm.h
void rms_norm_forward(Dtype, const void*, const void*, void*, void*, int64_t, int64_t, double) {
  TTT_NO_CUDA("rms_norm_forward");
}
void rms_norm_backward(Dtype, const void*, const void*, const void*, const void*, void*, void*, int64_t,
                       int64_t) {
  TTT_NO_CUDA("rms_norm_backward");
}
void layer_norm_forward(Dtype, const void*, const void*, const void*, void*, void*, void*, int64_t, int64_t,
                        double) {
  TTT_NO_CUDA("layer_norm_forward");
}
void layer_norm_backward(Dtype, const void*, const void*, const void*, const void*, const void*, void*, void*,
                         void*, int64_t, int64_t) {
  TTT_NO_CUDA("layer_norm_backward");
}
// softmax.h
void softmax_forward(SoftmaxKind, Dtype, const void*, void*, int64_t, int64_t) {
  TTT_NO_CUDA("softmax_forward");
}
void softmax_backward(SoftmaxKind, Dtype, const void*, const void*, void*, int64_t, int64_t) {
  TTT_NO_CUDA("softmax_backward");
}
void cross_entropy_forward(Dtype, const void*, Dtype, const void*, void*, void*, int64_t, int64_t) {
  TTT_NO_CUDA("cross_entropy_forward");
}
void cross_entropy_backward(Dtype, const void*, Dtype, const void*, const void*, const void*, void*, int64_t,
                            int64_t) {
  TTT_NO_CUDA("cross_entropy_backward");
}
// attention.h
void causal_attention_forward(Dtype, const AttentionArgs&, void*, void*) { TTT_NO_CUDA("causal_attention_forward"); }
void causal_attention_backward(Dtype, const AttentionArgs&, const void*, const void*, const void*, void*, void*,
                               void*, void*) {
  TTT_NO_CUDA("causal_attention_backward");
}
// conv.h
void causal_conv1d_forward(Dtype, const void*, const void*, const void*, void*, int64_t, int64_t, int64_t, int64_t) {
  TTT_NO_CUDA("causal_conv1d_forward");
}
void causal_conv1d_backward(Dtype, const void*, const void*, const void*, void*, void*, void*, int64_t, int64_t,
                            int64_t, int64_t) {
  TTT_NO_CUDA("causal_conv1d_backward");
}
// rope.h
void rope_forward(Dtype, Dtype, const void*, const void*, void*, int64_t, int64_t, int64_t, float, RopeDirection) {
  TTT_NO_CUDA("rope_forward");
}
// embedding.h
void embedding_forward(Dtype, Dtype, const void*, const void*, void*, int64_t, int64_t, int64_t) {
  TTT_NO_CUDA("embedding_forward");
}
void embedding_backward(Dtype, Dtype, const void*, const void*, void*, int64_t, int64_t, int64_t) {
  TTT_NO_CUDA("embedding_backward");
}
// cumsum.h
void cumsum_forward(Dtype, const void*, void*, int64_t, int64_t, int64_t, ScanDirection) {
  TTT_NO_CUDA("cumsum_forward");
}
// mask.h
void mask_upper_fill(Dtype, const void*, void*, int64_t, int64_t, int64_t, int64_t, double) {
  TTT_NO_CUDA("mask_upper_fill");
}
// adamw.h
void adamw_update(Dtype, void*, const void*, void*, void*, int64_t, double, double, double, double, double, int64_t) {
  TTT_NO_CUDA("adamw_update");
}
// random.h
void random_uniform(Dtype, void*, int64_t, uint64_t, uint64_t, double, double) { TTT_NO_CUDA("random_uniform"); }
void random_normal(Dtype, void*, int64_t, uint64_t, uint64_t, double, double) { TTT_NO_CUDA("random_normal"); }
void random_trunc_normal(Dtype, void*, int64_t, uint64_t, uint64_t, double, double) {
  TTT_NO_CUDA("random_trunc_normal");
}
// scan.h
void selective_scan_forward(Dtype, const ScanDims&, const ScanInputs&, void*, void*) {
  TTT_NO_CUDA("selective_scan_forward");
}
void selective_scan_backward(Dtype, const ScanDims&, const ScanInputs&, const void*, const void*, const ScanGrads&) {
  TTT_NO_CUDA("selective_scan_backward");
}
void selective_scan_step(Dtype, const ScanDims&, const ScanInputs&, void*, void*) {
  TTT_NO_CUDA("selective_scan_step");
}
// ttt.h
void ttt_forward(Dtype, const TttDims&, const TttSequence&, const TttInnerParams&, void*, void*) {
  TTT_NO_CUDA("ttt_forward");
}
void ttt_backward(Dtype, const TttDims&, const TttSequence&, const void*, const void*, const TttSequenceGrads&,
                  const TttInnerGrads&) {
  TTT_NO_CUDA("ttt_backward");
}

}  // namespace tttlm::kernels::cuda
