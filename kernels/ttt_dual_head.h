// The generic per-(b, h) drivers of the TTT dual form (docs/spec/ttt.md §3.7-§3.8, §3.12), written once for
// every inner model (an `Inner` traits type, kernels/ttt_inner.h) and every backend (an executor, see
// ttt_dual.h): forward runs the mini-batches in sequence and keeps the state every snapshot_every
// mini-batches; backward recomputes one group of mini-batches at a time from its kept state, then runs
// their backward in reverse. Also the workspace each needs per (b, h).
#pragma once

#include "kernels/ttt_dual.h"

namespace tttlm::kernels::ttt_dual {

// Elements of one cached mini-batch.
template <class Inner>
TTT_HD int64_t cache_size(int64_t m, int64_t d, int64_t I) {
  Carver<char> cv;
  Inner::carve_cache(cv, m, d, I);
  return cv.used;
}
// Workspace (elements of T) of one (b, h): forward [state | cache | step].
template <class Inner>
TTT_HD int64_t forward_workspace(int64_t m, int64_t d, int64_t I) {
  Carver<char> cv;
  cv.take(state_size<Inner>(d, I));
  Inner::carve_cache(cv, m, d, I);
  Inner::carve_step(cv, m, d, I);
  return cv.used;
}
// Backward [group + 1 states | group caches | scratch].
template <class Inner>
TTT_HD int64_t backward_workspace(int64_t m, int64_t d, int64_t I, int64_t group) {
  Carver<char> cv;
  cv.take((group + 1) * state_size<Inner>(d, I) + group * cache_size<Inner>(m, d, I));
  Inner::carve_scratch(cv, m, d, I);
  return cv.used;
}

// Forward of one (b, h) from its head's slices of the initial parameters: out (T, D); the state at every
// snapshot_every-th mini-batch start into ckpt (num_snapshots, state_size) unless null.
template <class Inner, class T, class Ex>
TTT_INNER void head_forward(Ex& ex, const Head<T>& hd, const ParamPtrs<const T>& params, T* out, T* ckpt, T* ws) {
  static_assert(Inner::kNumParams <= kMaxInnerParams, "raise kMaxInnerParams (kernels/ttt.h)");
  const int64_t d = hd.dim, I = hd.hidden, m = hd.mini_batch, S = state_size<Inner>(d, I), nmb = hd.num_mini_batches();
  Carver<T> cv{ws};
  T* state = cv.take(S);
  const typename Inner::template Cache<T> C = Inner::carve_cache(cv, m, d, I);
  const typename Inner::template Step<T> step = Inner::carve_step(cv, m, d, I);
  for (int i = 0; i < Inner::kNumParams; ++i)
    copy_n(ex, head_numel(Inner::param(i), d, I), params.p[i], state + state_offset<Inner>(i, d, I));
  for (int64_t c = 0; c < nmb; ++c) {
    if (ckpt && c % hd.snapshot_every == 0) copy_n(ex, S, state, ckpt + (c / hd.snapshot_every) * S);
    Inner::forward(ex, hd, c, state, C, step, out + c * m * d, c + 1 < nmb);
  }
}

// Backward of one (b, h) from gr.dout (T, D) and the snapshots; overwrites every other field of gr
// (gr.dstate = the gradient of this (b, h)'s initial state, laid out as the state).
template <class Inner, class T, class Ex>
TTT_INNER void head_backward(Ex& ex, const Head<T>& hd, const T* ckpt, const HeadGrads<T>& gr, T* ws) {
  const int64_t d = hd.dim, I = hd.hidden, m = hd.mini_batch, S = state_size<Inner>(d, I), nmb = hd.num_mini_batches();
  const int64_t k = hd.snapshot_every, group = k < nmb ? k : nmb, cache = cache_size<Inner>(m, d, I);
  Carver<T> cv{ws};
  T* states = cv.take((group + 1) * S);
  T* caches = cv.take(group * cache);
  const typename Inner::template Scratch<T> scratch = Inner::carve_scratch(cv, m, d, I);
  fill_n(ex, S, T(0), gr.dstate);
  fill_n(ex, m, T(0), gr.dtau);
  fill_n(ex, d, T(0), gr.dgamma);
  fill_n(ex, d, T(0), gr.dbeta);
  for (int64_t g = (nmb + k - 1) / k - 1; g >= 0; --g) {
    const int64_t c0 = g * k, c1 = c0 + k < nmb ? c0 + k : nmb;
    copy_n(ex, S, ckpt + g * S, states);
    for (int64_t c = c0; c < c1; ++c) {
      T* next = states + (c - c0 + 1) * S;
      Carver<T> cc{caches + (c - c0) * cache};
      copy_n(ex, S, next - S, next);
      Inner::forward(ex, hd, c, next, Inner::carve_cache(cc, m, d, I), scratch.step, static_cast<T*>(nullptr), true);
    }
    for (int64_t c = c1 - 1; c >= c0; --c) {
      Carver<T> cc{caches + (c - c0) * cache};
      Inner::backward(ex, hd, c, states + (c - c0) * S, Inner::carve_cache(cc, m, d, I), gr, scratch);
    }
  }
}

}  // namespace tttlm::kernels::ttt_dual
