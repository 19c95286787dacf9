// The TTT sequence-modelling block (docs/spec/ttt.md §3): projections (θ_Q, θ_K, θ_V views; Q/K shared plus two
// causal convs in the Mamba backbone), RoPE with positions t mod mini_batch, the learnable inner learning
// rate (token-index term and per-head gate of the layer input), the inner loop as one fused op
// (ops::ttt over the inner model, TTT-Linear or TTT-MLP, dual form), post LayerNorm, the optional GELU gate, and the
// output projection. Input u is the seq_norm'ed hidden state (B, T, C). Decoding (docs/spec/ttt.md §3.11) carries the
// inner state from token to token with ops::ttt_decode_step (CPU only).
#pragma once

#include "autograd/ops/ttt.h"
#include "layers/basic.h"
#include "layers/forward_context.h"
#include "layers/model_config.h"

namespace tttlm::layers {

class TttLayer : public Module {
 public:
  explicit TttLayer(const ModelConfig& c);
  Tensor forward(const Tensor& u, const ForwardContext& ctx) const;  // (B, T, C) -> (B, T, C)

  // The pieces before the inner loop, shared with decoding and the tests.
  struct InnerInputs {
    Tensor q, k, v;    // (B, H, T, D), rotated
    Tensor token_eta;  // (mini_batch)
    Tensor ttt_lr;     // (B, H, T)
  };
  InnerInputs inner_inputs(const Tensor& u, const ForwardContext& ctx, int64_t position_offset = 0) const;
  Tensor output(const Tensor& u, const Tensor& z) const;  // z (B, H, T, D) -> (B, T, C)

  // Decoding state: the conv_q/conv_k histories (share_qk only) and the inner-loop state of the current
  // mini-batch; its `position` counts the tokens consumed.
  struct State {
    Tensor conv_q, conv_k;  // (B, K-1, C)
    ops::TttDecodeState inner;
    int64_t position() const { return inner.position; }
  };
  State init_state(int64_t batch) const;
  // T new tokens u (B, T, C) -> (B, T, C): the projections, convs and gate for all T at once, then the inner
  // loop one token at a time. CPU, no gradient (call under NoGradGuard).
  Tensor extend(const Tensor& u, const ForwardContext& ctx, State& s) const;

  bool mlp;
  bool share_qk, use_gate;
  int64_t heads, head_dim, mini_batch, inner_snapshot_every;
  double base_lr, rope_theta;
  Linear& wq;
  Linear* wk = nullptr;
  Linear& wv;
  Linear& wo;
  Linear* wg = nullptr;
  CausalConv* conv_q = nullptr;
  CausalConv* conv_k = nullptr;
  Parameter& token_idx;        // learnable_token_idx (mini_batch)
  Parameter& lr_weight;        // learnable_ttt_lr kernel (H, C)
  Parameter& lr_bias;          // (H)
  Parameter& ttt_norm_weight;  // (H, D)
  Parameter& ttt_norm_bias;    // (H, D)
  LayerNorm& post_norm;
  Parameter& w1;            // (H, D, D) linear; (H, D, 4D) mlp
  Parameter& b1;            // (H, D) / (H, 4D)
  Parameter* w2 = nullptr;  // (H, 4D, D)
  Parameter* b2 = nullptr;  // (H, D)

 private:
  InnerInputs inner_inputs(const Tensor& u, const ForwardContext& ctx, int64_t position_offset, State* s) const;
  ops::TttInner inner_model() const;  // the inner model and its initial parameters
};

}  // namespace tttlm::layers
