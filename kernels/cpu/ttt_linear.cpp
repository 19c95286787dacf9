// TTT-Linear dual form on the CPU: one (b, h) per OpenMP iteration running kernels/ttt_dual_linear.h with
// a per-thread workspace; parameter gradients land per (b, h) and are summed over b in order afterwards.
#include "kernels/cpu/ttt_common.h"
#include "kernels/dispatch.h"
#include "kernels/ttt_dual_linear.h"

namespace tttlm::kernels::cpu {

using namespace ttt_detail;
using namespace ttt_dual;

void ttt_linear_forward(Dtype dtype,
                        const TttDims& dims,
                        const TttSequence& seq,
                        const TttLinearParams& params,
                        void* out,
                        void* checkpoints) {
  dispatch_float(dtype, "ttt_linear", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t BH = dims.batch * dims.heads, d = dims.dim, S = dims.linear_state_size();
    const int64_t ws_size = linear_forward_workspace(dims.mini_batch, d);
    auto W = static_cast<const T*>(params.w);
    auto Bv = static_cast<const T*>(params.b);
    auto O = static_cast<T*>(out);
    auto C = static_cast<T*>(checkpoints);
    for_each_head<T>(BH, ws_size, [&](CpuExec& ex, int64_t bh, T* ws) {
      const int64_t h = bh % dims.heads;
      linear_head_forward(ex,
                          head_at<T>(dims, seq, bh),
                          W + h * d * d,
                          Bv + h * d,
                          O + bh * dims.seq * d,
                          C ? C + bh * dims.num_checkpoints() * S : nullptr,
                          ws);
    });
  });
}

void ttt_linear_backward(Dtype dtype,
                         const TttDims& dims,
                         const TttSequence& seq,
                         const void* checkpoints,
                         const void* dout,
                         const TttSequenceGrads& grads,
                         const TttLinearGrads& param_grads) {
  dispatch_float(dtype, "ttt_linear_backward", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t B = dims.batch, H = dims.heads, d = dims.dim, m = dims.mini_batch;
    const int64_t S = dims.linear_state_size(), nmb = dims.num_mini_batches();
    const int64_t group = dims.checkpoint_every < nmb ? dims.checkpoint_every : nmb;
    const int64_t ws_size = linear_backward_workspace(m, d, group);
    auto head_backward = [](CpuExec& ex, auto head, const T* c, const T* dO, auto gr, T* ws) {
      linear_head_backward(ex, head, c, dO, gr, ws);
    };
    backward_heads<T>(dims, seq, checkpoints, dout, grads, S, ws_size, head_backward, [&](const T* dstate) {
      sum_over_batch(dstate, B, H, S, 0, d * d, static_cast<T*>(param_grads.dw));
      sum_over_batch(dstate, B, H, S, d * d, d, static_cast<T*>(param_grads.db));
    });
  });
}

}  // namespace tttlm::kernels::cpu
