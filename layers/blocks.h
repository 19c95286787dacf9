// Residual blocks (docs/spec/ttt.md §2.3, docs/spec/mamba.md §2):
//   Block:      [h += conv(rms(h))]  h += seq(rms(h))  h += ffn(rms(h))   seq = TTT layer or attention
//   MambaBlock: h += mixer(rms(h))
// extend() is the decoding form of forward(): T new tokens after those its State has seen (layers/decoder.h).
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

  struct State {
    Tensor conv;          // pre-conv history (B, K-1, C), when the block has a pre-conv
    TttLayer::State ttt;  // TTT blocks
    Attention::Cache kv;  // Transformer blocks
  };
  State init_state(int64_t batch) const;
  Tensor extend(const Tensor& h, const ForwardContext& ctx, State& s) const;  // (B, T, C) -> (B, T, C)

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
  MambaMixer::State init_state(int64_t batch) const { return mixer.init_state(batch); }
  Tensor extend(const Tensor& h, MambaMixer::State& s) const;  // (B, T, C) -> (B, T, C)
  RmsNorm& norm;
  MambaMixer& mixer;
};

}  // namespace tttlm::layers
