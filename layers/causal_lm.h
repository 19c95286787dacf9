// CausalLM: embedding -> blocks -> RMSNorm -> logits = h·Eᵀ (tied, docs/spec/ttt.md §2.2) for all six model kinds,
// and the training loss of the official code (docs/spec/ttt.md §8): cross-entropy per token, masked mean per
// sequence, then the mean over sequences.
#pragma once

#include <memory>
#include <vector>

#include "layers/blocks.h"

namespace tttlm::layers {

class CausalLM : public Module {
 public:
  explicit CausalLM(const ModelConfig& c);
  const ModelConfig& config() const { return config_; }

  // ids (B, T) i32/i64 -> logits (B, T, V') f32
  Tensor forward(const Tensor& ids, const ForwardContext& ctx = {}) const;
  // Hidden states after the final norm (B, T, C).
  Tensor hidden(const Tensor& ids, const ForwardContext& ctx = {}) const;
  // Scalar loss: mean over sequences of sum(mask · xent) / max(sum(mask), 1e-10).
  Tensor loss(const Tensor& ids, const Tensor& targets, const Tensor& mask, const ForwardContext& ctx = {}) const;
  // Per-token losses (B, T) (unmasked), for evaluation by position.
  Tensor token_losses(const Tensor& ids, const Tensor& targets, const ForwardContext& ctx = {}) const;

  // The pieces of forward(), for step-by-step decoding (layers/decoder.h).
  Tensor head(const Tensor& hidden) const;               // (..., C) -> logits (..., V') = hidden·Eᵀ
  const Parameter& embedding() const { return embed_; }  // (V', C)
  const std::vector<Block*>& blocks() const { return blocks_; }
  const std::vector<MambaBlock*>& mamba_blocks() const { return mamba_blocks_; }
  const RmsNorm& final_norm() const { return norm_; }

 private:
  ModelConfig config_;
  Parameter& embed_;
  std::vector<Block*> blocks_;
  std::vector<MambaBlock*> mamba_blocks_;
  RmsNorm& norm_;
};

}  // namespace tttlm::layers
