// The Mamba-1 mixer (docs/spec/mamba.md §3): in_proj -> (x, z); xc = silu(causal depthwise conv(x)); x_proj ->
// (dt_low, B, C); delta_raw = dt_low·W_dt; selective scan with softplus(delta_raw + dt_bias), A = -exp(A_log),
// skip D and gate silu(z); out_proj. Weights in (in, out) layout; inits of docs/spec/mamba.md §7.
#pragma once

#include "layers/basic.h"
#include "layers/model_config.h"

namespace tttlm::layers {

class MambaMixer : public Module {
 public:
  explicit MambaMixer(const ModelConfig& c);
  Tensor forward(const Tensor& h) const;  // (B, T, C) -> (B, T, C)

  // Recurrent decoding (docs/spec/mamba.md §6): the conv history (the last K-1 pre-conv inputs x) and the scan
  // state h_{t-1} (B, Di, N) in the compute dtype, zeros before the first token.
  struct State {
    Tensor conv;        // (B, K-1, Di)
    Tensor ssm;         // (B, Di, N)
    bool fresh = true;  // nothing consumed yet: extend() may run the sequence scan from h = 0
  };
  State init_state(int64_t batch) const;
  // T new tokens h (B, T, C) -> (B, T, C), advancing the state. A fresh state runs the forward's scan
  // (selective_scan_with_state); later tokens go through selective_scan_step one at a time.
  // No gradient (call under NoGradGuard).
  Tensor extend(const Tensor& h, State& s) const;
  int64_t inner, state, rank, chunk;
  Linear& in_proj;       // (C, 2 Di)
  CausalConv& conv1d;    // (K, Di), (Di)
  Linear& x_proj;        // (Di, R + 2N)
  Parameter& dt_weight;  // dt_proj.weight (R, Di)
  Parameter& dt_bias;    // dt_proj.bias (Di)
  Parameter& a_log;      // (Di, N)
  Parameter& d_skip;     // D (Di)
  Linear& out_proj;      // (Di, C)

 private:
  Tensor mix(const Tensor& h, State* s) const;  // s null: the training forward
};

}  // namespace tttlm::layers
