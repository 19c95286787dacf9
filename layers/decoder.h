// Step-by-step decoding (recurrent inference) of a CausalLM, for all six kinds. The Decoder holds every
// block's recurrent state, so a new token costs one token's forward instead of a forward over the whole
// prefix: TTT blocks keep the inner-loop state of the current mini-batch (docs/spec/ttt.md §3.11) and the conv
// histories, Transformer blocks a KV cache, Mamba blocks the conv history and the scan state (docs/spec/mamba.md §6).
// Decoding runs on the CPU (the TTT decode ops are CPU only): a model on another device is copied to the
// CPU once, at construction, and logits come back on the CPU. docs/decoding.md has the details and limits.
#pragma once

#include <memory>
#include <vector>

#include "layers/causal_lm.h"

namespace tttlm::layers {

class Decoder {
 public:
  // `batch` rows decoded in lockstep; ctx as for CausalLM::forward (ttt_lr_mult = 1 at evaluation).
  // The model must outlive the Decoder (unless it was copied to the CPU) and must not change meanwhile.
  Decoder(const CausalLM& model, int64_t batch, const ForwardContext& ctx = {});

  // ids (B) or (B, 1), i32 or i64: one token per row -> logits (B, V') of the token after it.
  Tensor step(const Tensor& ids);
  // ids (B, T), T >= 1: T tokens per row, appended after those already consumed -> logits (B, V') of the
  // last one. The projections and feed-forwards run on all T rows at once; the TTT inner loop and, after
  // the first call, the Mamba scan go token by token.
  Tensor prefill(const Tensor& ids);
  // As prefill, with the logits of every new position (B, T, V'): for a fresh decoder these equal
  // CausalLM::forward(ids) up to rounding.
  Tensor extend(const Tensor& ids);
  // Forgets every token (fresh states, position 0).
  void reset();

  int64_t batch() const { return batch_; }
  int64_t position() const { return position_; }  // tokens consumed per row
  // The most positions a decoder can hold: max_seq_len for the Transformer (RoPE at absolute positions,
  // a KV cache of that size; going further throws "[decode] ..."), -1 = no limit for TTT and Mamba.
  int64_t max_positions() const;
  const CausalLM& model() const { return *model_; }

 private:
  Tensor advance(const Tensor& ids);  // ids (B, T) -> hidden states after the final norm (B, T, C)

  std::unique_ptr<CausalLM> cpu_copy_;  // set when the model is not on the CPU
  const CausalLM* model_;
  int64_t batch_;
  ForwardContext ctx_;
  int64_t position_ = 0;
  std::vector<Block::State> blocks_;
  std::vector<MambaMixer::State> mamba_blocks_;
};

}  // namespace tttlm::layers
