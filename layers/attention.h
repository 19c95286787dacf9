// The Transformer baseline's self-attention (ttt-spec §2.4): q, k, v = u·Wq, u·Wk, u·Wv (no bias), RoPE
// with absolute positions, causal softmax attention computed in tiles (ops::causal_attention), ·Wo.
#pragma once

#include "layers/basic.h"
#include "layers/model_config.h"

namespace tttlm::layers {

class Attention : public Module {
 public:
  explicit Attention(const ModelConfig& c);
  Tensor forward(const Tensor& u) const;  // (B, T, C) -> (B, T, C)
  int64_t heads, head_dim;
  double rope_theta;
  Linear& wq;
  Linear& wk;
  Linear& wv;
  Linear& wo;
};

}  // namespace tttlm::layers
