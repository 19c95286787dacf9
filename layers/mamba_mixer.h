// The Mamba-1 mixer (mamba-spec §3): in_proj -> (x, z); xc = silu(causal depthwise conv(x)); x_proj ->
// (dt_low, B, C); delta_raw = dt_low·W_dt; selective scan with softplus(delta_raw + dt_bias), A = -exp(A_log),
// skip D and gate silu(z); out_proj. Weights in (in, out) layout; inits of mamba-spec §7.
#pragma once

#include "layers/basic.h"
#include "layers/model_config.h"

namespace tttlm::layers {

class MambaMixer : public Module {
 public:
  explicit MambaMixer(const ModelConfig& c);
  Tensor forward(const Tensor& h) const;  // (B, T, C) -> (B, T, C)
  int64_t inner, state, rank, chunk;
  Linear& in_proj;     // (C, 2 Di)
  CausalConv& conv1d;  // (K, Di), (Di)
  Linear& x_proj;      // (Di, R + 2N)
  Parameter& dt_weight;  // dt_proj.weight (R, Di)
  Parameter& dt_bias;    // dt_proj.bias (Di)
  Parameter& a_log;      // (Di, N)
  Parameter& d_skip;     // D (Di)
  Linear& out_proj;    // (Di, C)
};

}  // namespace tttlm::layers
