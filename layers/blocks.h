// Residual blocks (ttt-spec §2.3, mamba-spec §2):
//   Block:      [h += conv(rms(h))]  h += seq(rms(h))  h += ffn(rms(h))   seq = TTT layer or attention
//   MambaBlock: h += mixer(rms(h))
#pragma once

#include "layers/attention.h"
#include "layers/forward_context.h"
#include "layers/mamba_mixer.h"
#include "layers/ttt_layer.h"

namespace tttlm::layers {

class Block : public Module {
 public:
  explicit Block(const ModelConfig& c);
  Tensor forward(const Tensor& h, const ForwardContext& ctx) const;
  RmsNorm* conv_norm = nullptr;
  CausalConv* conv = nullptr;
  RmsNorm& seq_norm;
  TttLayer* ttt = nullptr;
  Attention* attention = nullptr;
  RmsNorm& ffn_norm;
  SwiGlu& ffn;
};

class MambaBlock : public Module {
 public:
  explicit MambaBlock(const ModelConfig& c);
  Tensor forward(const Tensor& h) const;
  RmsNorm& norm;
  MambaMixer& mixer;
};

}  // namespace tttlm::layers
