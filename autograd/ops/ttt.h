// The TTT layer's inner loop (docs/spec/ttt.md §3, §4) as fused differentiable ops: TTT-Linear and TTT-MLP, each
// (b, h) independent. Inner model f(x) = x + LN(f_res(x)), target V − K, output Z_i = q_i + LN(f_res(q_i;
// W_i)) with W_i the state after the inclusive-tril update of token i's mini-batch; eta_ij =
// token_eta[i]·ttt_lr[t(j)]. Backward differentiates through the whole inner loop (§3.12: no stop-gradient on
// the inner gradients). Forward keeps the inner state every checkpoint_every-th mini-batch; backward
// recomputes the rest.
#pragma once

#include "core/tensor.h"

namespace tttlm::ops {

struct TttOptions {
  int64_t mini_batch = 16;  // tokens per inner mini-batch; a leftover T mod mini_batch is a short last one
  int64_t checkpoint_every =
      4;                   // keep the state at every k-th mini-batch start (memory T/mini_batch/k states)
  bool layer_norm = true;  // false: the LN in f is the identity
  bool residual = true;    // false: target V (not V − K) and output f_res(q) (no + q)
};

// xq, xk, xv: (B, H, T, D) test, training and label views; token_eta: (mini_batch) tau_i, already
// max(0, 1/(i+1) + l_i); ttt_lr: (B, H, T) the column factor of eta (lr_mult·base_lr·gate/D);
// w0: (H, D, D), b0: (H, D) the initial inner state; ln_weight, ln_bias: (H, D) the inner LN.
// Returns Z (B, H, T, D). All tensors of one float dtype (CPU: f32, f64; CUDA: also bf16) and device.
// Gradients flow to every input.
Tensor ttt_linear(const Tensor& xq,
                  const Tensor& xk,
                  const Tensor& xv,
                  const Tensor& token_eta,
                  const Tensor& ttt_lr,
                  const Tensor& w0,
                  const Tensor& b0,
                  const Tensor& ln_weight,
                  const Tensor& ln_bias,
                  const TttOptions& options = {});
// As ttt_linear with f_res(x) = gelu_tanh(x·W1 + b1)·W2 + b2: w1 (H, D, I), b1 (H, I), w2 (H, I, D), b2 (H,
// D).
Tensor ttt_mlp(const Tensor& xq,
               const Tensor& xk,
               const Tensor& xv,
               const Tensor& token_eta,
               const Tensor& ttt_lr,
               const Tensor& w1,
               const Tensor& b1,
               const Tensor& w2,
               const Tensor& b2,
               const Tensor& ln_weight,
               const Tensor& ln_bias,
               const TttOptions& options = {});

// Primal form (§3.7 "Primal": token by token, one state per token), the reference for the ops above.
// CPU only, forward only: throws when an input requires grad while grad mode is on.
Tensor ttt_linear_primal(const Tensor& xq,
                         const Tensor& xk,
                         const Tensor& xv,
                         const Tensor& token_eta,
                         const Tensor& ttt_lr,
                         const Tensor& w0,
                         const Tensor& b0,
                         const Tensor& ln_weight,
                         const Tensor& ln_bias,
                         const TttOptions& options = {});
Tensor ttt_mlp_primal(const Tensor& xq,
                      const Tensor& xk,
                      const Tensor& xv,
                      const Tensor& token_eta,
                      const Tensor& ttt_lr,
                      const Tensor& w1,
                      const Tensor& b1,
                      const Tensor& w2,
                      const Tensor& b2,
                      const Tensor& ln_weight,
                      const Tensor& ln_bias,
                      const TttOptions& options = {});

// Token-by-token decoding (§3.11), CPU only, no gradient (throws when an input requires grad while grad
// mode is on). The state at the start of the current mini-batch, the accumulated ttt_lr-scaled gradients
// of the tokens of that mini-batch so far, and the number of tokens consumed.
struct TttLinearDecodeState {
  Tensor w, b;            // (B, H, D, D), (B, H, D)
  Tensor grad_w, grad_b;  // same shapes
  int64_t position = 0;
};
struct TttMlpDecodeState {
  Tensor w1, b1, w2, b2;                      // (B, H, D, I), (B, H, I), (B, H, I, D), (B, H, D)
  Tensor grad_w1, grad_b1, grad_w2, grad_b2;  // same shapes
  int64_t position = 0;
};
// A fresh state: the learned initial weights for every batch row, zero accumulators, position 0.
TttLinearDecodeState ttt_linear_decode_init(const Tensor& w0, const Tensor& b0, int64_t batch);
TttMlpDecodeState ttt_mlp_decode_init(
    const Tensor& w1, const Tensor& b1, const Tensor& w2, const Tensor& b2, int64_t batch);
// One token: xq, xk, xv (B, H, D), ttt_lr (B, H); returns z (B, H, D) and advances the state (at the end of
// a mini-batch the state moves on and the accumulators reset). Matches the sequence ops token by token.
Tensor ttt_linear_decode_step(TttLinearDecodeState& state,
                              const Tensor& xq,
                              const Tensor& xk,
                              const Tensor& xv,
                              const Tensor& token_eta,
                              const Tensor& ttt_lr,
                              const Tensor& ln_weight,
                              const Tensor& ln_bias,
                              const TttOptions& options = {});
Tensor ttt_mlp_decode_step(TttMlpDecodeState& state,
                           const Tensor& xq,
                           const Tensor& xk,
                           const Tensor& xv,
                           const Tensor& token_eta,
                           const Tensor& ttt_lr,
                           const Tensor& ln_weight,
                           const Tensor& ln_bias,
                           const TttOptions& options = {});

}  // namespace tttlm::ops
