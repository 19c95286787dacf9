// The TTT dual form on the CPU for every inner model: one (b, h) per OpenMP iteration running the generic
// per-(b, h) drivers (kernels/ttt_dual_head.h) over the model's traits with a per-thread workspace;
// parameter gradients land per (b, h) and are summed over b in order afterwards.
#include <string>

#include "kernels/cpu/ttt_common.h"
#include "kernels/dispatch.h"
#include "kernels/ttt_inner.h"

namespace tttlm::kernels::cpu {

using namespace ttt_detail;
using namespace ttt_dual;

void ttt_forward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttInnerParams& params, void* out,
                 void* snapshots) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    dispatch_float(dtype, Inner::kOp, [&](auto tag) {
      using T = TTT_T(tag);
      const int64_t BH = dims.batch * dims.heads, d = dims.dim, I = dims.hidden, S = state_size<Inner>(d, I);
      const int64_t ws_size = forward_workspace<Inner>(dims.mini_batch, d, I);
      auto O = static_cast<T*>(out);
      auto C = static_cast<T*>(snapshots);
      for_each_head<T>(BH, ws_size, [&](CpuExec& ex, int64_t bh, T* ws) {
        const int64_t h = bh % dims.heads;
        ParamPtrs<const T> p;
        for (int i = 0; i < Inner::kNumParams; ++i)
          p.p[i] = static_cast<const T*>(params.p[i]) + h * head_numel(Inner::param(i), d, I);
        head_forward<Inner>(ex, head_at<T>(dims, seq, bh), p, O + bh * dims.seq * d,
                            C ? C + bh * dims.num_snapshots() * S : nullptr, ws);
      });
    });
  });
}

void ttt_backward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const void* snapshots, const void* dout,
                  const TttSequenceGrads& grads, const TttInnerGrads& param_grads) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    const std::string op = std::string(Inner::kOp) + "_backward";
    dispatch_float(dtype, op.c_str(), [&](auto tag) {
      using T = TTT_T(tag);
      const int64_t B = dims.batch, H = dims.heads, d = dims.dim, I = dims.hidden, m = dims.mini_batch;
      const int64_t S = state_size<Inner>(d, I), nmb = dims.num_mini_batches();
      const int64_t group = dims.snapshot_every < nmb ? dims.snapshot_every : nmb;
      const int64_t ws_size = backward_workspace<Inner>(m, d, I, group);
      auto head_backward = [](CpuExec& ex, auto head, const T* c, auto gr, T* ws) {
        ttt_dual::head_backward<Inner>(ex, head, c, gr, ws);
      };
      backward_heads<T>(dims, seq, snapshots, dout, grads, S, ws_size, head_backward, [&](const T* dstate) {
        for (int i = 0; i < Inner::kNumParams; ++i)
          sum_over_batch(dstate, B, H, S, state_offset<Inner>(i, d, I), head_numel(Inner::param(i), d, I),
                         static_cast<T*>(param_grads.p[i]));
      });
    });
  });
}

}  // namespace tttlm::kernels::cpu
