// TTT primal form and decoding on the CPU for every inner model (docs/spec/ttt.md §3.7 "Primal", §3.11):
// token by token, each token's gradient taken at the state of its mini-batch start, accumulated with its
// ttt_lr, and the token's own state W_s − tau_s·Σ applied to its query (the model's primal_token step,
// kernels/ttt_dual_<model>.h). The primal forward is this step run over the sequence; it is the reference
// the dual form is tested against. Plain loops, one (b, h) per OpenMP iteration.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/ttt.h"
#include "kernels/ttt_inner.h"

namespace tttlm::kernels::cpu {

using namespace ttt_dual;

void ttt_primal_forward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttInnerParams& params,
                        void* out) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    const std::string op = std::string(Inner::kOp) + "_primal";
    dispatch_float(dtype, op.c_str(), [&](auto tag) {
      using T = TTT_T(tag);
      const int64_t d = dims.dim, I = dims.hidden, BH = dims.batch * dims.heads, S = state_size<Inner>(d, I);
#pragma omp parallel for schedule(dynamic, 1)
      for (int64_t bh = 0; bh < BH; ++bh) {
        const int64_t h = bh % dims.heads;
        // [state | accumulated gradients (zero) | token scratch]
        std::vector<T> buf(2 * S + Inner::primal_scratch(d, I));
        T *st[kMaxInnerParams], *acc[kMaxInnerParams];
        for (int i = 0; i < Inner::kNumParams; ++i) {
          const int64_t n = head_numel(Inner::param(i), d, I), at = state_offset<Inner>(i, d, I);
          st[i] = buf.data() + at;
          acc[i] = buf.data() + S + at;
          std::copy_n(static_cast<const T*>(params.p[i]) + h * n, n, st[i]);
        }
        for (int64_t t = 0; t < dims.seq; ++t)
          Inner::primal_token(token_at<T>(dims, seq, bh, t, t % dims.mini_batch), st, acc,
                              static_cast<T*>(out) + (bh * dims.seq + t) * d, buf.data() + 2 * S);
      }
    });
  });
}

void ttt_decode_step(Dtype dtype, const TttDims& dims, const TttSequence& token, int64_t offset,
                     const TttDecodeBuffers& state, void* out) {
  with_inner_model(dims.inner, [&](auto inner) {
    using Inner = decltype(inner);
    const std::string op = std::string(Inner::kOp) + "_decode_step";
    dispatch_float(dtype, op.c_str(), [&](auto tag) {
      using T = TTT_T(tag);
      const int64_t d = dims.dim, I = dims.hidden, BH = dims.batch * dims.heads;
#pragma omp parallel for schedule(static) if (BH > 1)
      for (int64_t bh = 0; bh < BH; ++bh) {
        std::vector<T> tmp(Inner::primal_scratch(d, I));
        T *st[kMaxInnerParams], *acc[kMaxInnerParams];
        for (int i = 0; i < Inner::kNumParams; ++i) {
          const int64_t n = head_numel(Inner::param(i), d, I);
          st[i] = static_cast<T*>(state.state[i]) + bh * n;
          acc[i] = static_cast<T*>(state.grad[i]) + bh * n;
        }
        Inner::primal_token(token_at<T>(dims, token, bh, 0, offset), st, acc, static_cast<T*>(out) + bh * d,
                            tmp.data());
      }
    });
  });
}

}  // namespace tttlm::kernels::cpu
