// TTT-MLP dual form on the CPU: one (b, h) per OpenMP iteration running kernels/ttt_dual_mlp.h with a
// per-thread workspace; parameter gradients land per (b, h) and are summed over b in order afterwards.
#include "kernels/cpu/ttt_common.h"
#include "kernels/dispatch.h"
#include "kernels/ttt_dual_mlp.h"

namespace tttlm::kernels::cpu {

using namespace ttt_detail;
using namespace ttt_dual;

void ttt_mlp_forward(Dtype dtype,
                     const TttDims& dims,
                     const TttSequence& seq,
                     const TttMlpParams& params,
                     void* out,
                     void* checkpoints) {
  dispatch_float(dtype, "ttt_mlp", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t BH = dims.batch * dims.heads, d = dims.dim, I = dims.hidden, S = dims.mlp_state_size();
    const int64_t ws_size = mlp_forward_workspace(dims.mini_batch, d, I);
    auto W1 = static_cast<const T*>(params.w1);
    auto B1 = static_cast<const T*>(params.b1);
    auto W2 = static_cast<const T*>(params.w2);
    auto B2 = static_cast<const T*>(params.b2);
    auto O = static_cast<T*>(out);
    auto C = static_cast<T*>(checkpoints);
    for_each_head<T>(BH, ws_size, [&](CpuExec& ex, int64_t bh, T* ws) {
      const int64_t h = bh % dims.heads;
      mlp_head_forward(ex,
                       head_at<T>(dims, seq, bh),
                       W1 + h * d * I,
                       B1 + h * I,
                       W2 + h * I * d,
                       B2 + h * d,
                       O + bh * dims.seq * d,
                       C ? C + bh * dims.num_checkpoints() * S : nullptr,
                       ws);
    });
  });
}

void ttt_mlp_backward(Dtype dtype,
                      const TttDims& dims,
                      const TttSequence& seq,
                      const void* checkpoints,
                      const void* dout,
                      const TttSequenceGrads& grads,
                      const TttMlpGrads& param_grads) {
  dispatch_float(dtype, "ttt_mlp_backward", [&](auto tag) {
    using T = TTT_T(tag);
    const int64_t B = dims.batch, H = dims.heads, d = dims.dim, I = dims.hidden,
                  m = dims.mini_batch;
    const int64_t S = dims.mlp_state_size(), nmb = dims.num_mini_batches();
    const int64_t group = dims.checkpoint_every < nmb ? dims.checkpoint_every : nmb;
    const int64_t ws_size = mlp_backward_workspace(m, d, I, group);
    auto head_backward = [](CpuExec& ex, auto head, const T* c, const T* dO, auto gr, T* ws) {
      mlp_head_backward(ex, head, c, dO, gr, ws);
    };
    backward_heads<T>(dims, seq, checkpoints, dout, grads, S, ws_size, head_backward, [&](const T* dstate) {
      sum_over_batch(dstate, B, H, S, 0, d * I, static_cast<T*>(param_grads.dw1));
      sum_over_batch(dstate, B, H, S, d * I, I, static_cast<T*>(param_grads.db1));
      sum_over_batch(dstate, B, H, S, d * I + I, I * d, static_cast<T*>(param_grads.dw2));
      sum_over_batch(dstate, B, H, S, 2 * d * I + I, d, static_cast<T*>(param_grads.db2));
    });
  });
}

}  // namespace tttlm::kernels::cpu
