// The TTT layer's inner loop (docs/spec/ttt.md §3, §4) as fused differentiable ops, for every inner model
// f_res (kernels::InnerModel: TTT-Linear, TTT-MLP), each (b, h) independent. Inner model f(x) = x +
// LN(f_res(x)), target V − K, output Z_i = q_i + LN(f_res(q_i; W_i)) with W_i the state after the
// inclusive-tril update of token i's mini-batch; eta_ij = token_eta[i]·ttt_lr[t(j)]. Backward differentiates
// through the whole inner loop (§3.12: no stop-gradient on the inner gradients). Forward keeps the inner
// state every snapshot_every-th mini-batch; backward recomputes the rest. Also the primal form (the
// reference) and token-by-token decoding.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernels/ttt.h"

namespace tttlm::ops {

using kernels::InnerModel;

struct TttOptions {
  int64_t mini_batch = 16;     // tokens per inner mini-batch; a leftover T mod mini_batch is a short last one
  int64_t snapshot_every = 4;  // keep the state at every k-th mini-batch start (memory T/mini_batch/k states)
  bool layer_norm = true;      // false: the LN in f is the identity
  bool residual = true;        // false: target V (not V − K) and output f_res(q) (no + q)
};

// The sequence operands. xq, xk, xv: (B, H, T, D) test, training and label views; token_eta: (mini_batch)
// tau_i, already max(0, 1/(i+1) + l_i); ttt_lr: (B, H, T) the column factor of eta (lr_mult·base_lr·gate/D);
// ln_weight, ln_bias: (H, D) the inner LN. For decoding, one token: xq, xk, xv (B, H, D), ttt_lr (B, H).
struct TttSequenceInputs {
  Tensor xq, xk, xv, token_eta, ttt_lr, ln_weight, ln_bias;
};

// An inner model and its initial state, one (H, ...) tensor per parameter in the order of its traits
// (kernels/ttt_inner.h): linear {w0 (H, D, D), b0 (H, D)}; mlp {w1 (H, D, I), b1 (H, I), w2 (H, I, D),
// b2 (H, D)}, f_res(x) = gelu_tanh(x·W1 + b1)·W2 + b2. Error messages name the op after the model
// ("[ttt_linear]", "[ttt_mlp_decode_step]").
struct TttInner {
  InnerModel model = InnerModel::linear;
  std::vector<Tensor> params;
};

// Returns Z (B, H, T, D). All tensors of one float dtype (CPU: f32, f64; CUDA: also bf16) and device.
// Gradients flow to every input.
Tensor ttt(const TttSequenceInputs& seq, const TttInner& inner, const TttOptions& options = {});

// Primal form (§3.7 "Primal": token by token, one state per token), the reference for the op above.
// CPU only, forward only: throws when an input requires grad while grad mode is on.
Tensor ttt_primal(const TttSequenceInputs& seq, const TttInner& inner, const TttOptions& options = {});

// Token-by-token decoding (§3.11), CPU only, no gradient (throws when an input requires grad while grad
// mode is on). The state at the start of the current mini-batch (one (B, H, ...) tensor per inner
// parameter), the accumulated ttt_lr-scaled gradients of the tokens of that mini-batch so far (same
// shapes), and the number of tokens consumed.
struct TttDecodeState {
  InnerModel model = InnerModel::linear;
  std::vector<Tensor> params, grads;
  int64_t position = 0;
};
// A fresh state: the learned initial parameters for every batch row, zero accumulators, position 0.
TttDecodeState ttt_decode_init(const TttInner& inner, int64_t batch);
// One token (`token`: xq, xk, xv (B, H, D), ttt_lr (B, H)); returns z (B, H, D) and advances the state (at
// the end of a mini-batch the state moves on and the accumulators reset). Matches ttt token by token.
Tensor ttt_decode_step(TttDecodeState& state, const TttSequenceInputs& token, const TttOptions& options = {});

}  // namespace tttlm::ops
