// Text generation from a model: sampling with temperature (0 = greedy). The prompt is prefilled into a
// layers::Decoder and each new token costs one decoding step (on the CPU; a CUDA model is copied there).
// TTT and Mamba models keep the whole context. A Transformer holds at most max_seq_len positions: a longer
// prompt is cut to its last max_seq_len tokens, and when the cache is full the decoder restarts from the
// last max_seq_len / 2 tokens (one prefill), so every prediction sees at least that much context.
#pragma once

#include <cstdint>
#include <vector>

#include <string>

#include "data/tokenizer.h"
#include "layers/causal_lm.h"

namespace tttlm::train {

// How the next token is drawn from the logits l (the model's vocab_size entries; Mamba's padding rows are
// never drawn). temperature 0: the argmax (lowest id on ties). Otherwise p_i ∝ exp((l_i - max l) / T),
// restricted first to the top_k most likely ids (0: all) and then to the smallest set of most likely ids whose
// probability sums to at least top_p (1: all; "nucleus" sampling), ties broken by lower id; the draw is
// one Philox uniform per step (seed, step), inverted over the kept ids in id order, so that the defaults
// reproduce plain temperature sampling exactly.
struct SamplingOptions {
  double temperature = 0.8;
  int64_t top_k = 0;
  double top_p = 1.0;
  uint64_t seed = 0;
};
int32_t sample_token(std::vector<double> logits, const SamplingOptions& o, uint64_t step);

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> prompt, int64_t max_new_tokens,
                                     const SamplingOptions& sampling, int32_t stop_id = -1);
// Temperature sampling alone (top_k 0, top_p 1).
std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> prompt, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id = -1);

// Text generation end to end: the prompt is encoded after BOS (the tokenizer must fit the model's
// vocabulary), continued, and returned decoded together with its continuation: decoding the continuation
// alone would drop the space that SentencePiece folds into its first piece ("To be" + "▁or" -> "To beor").
std::string generate_text(const layers::CausalLM& model, const data::Tokenizer& tokenizer, const std::string& prompt,
                          int64_t max_new_tokens, const SamplingOptions& sampling);
// The decoding step of generate_text: prompt ids (no BOS) and continuation decoded as one sequence.
std::string decode_with_prompt(const data::Tokenizer& tokenizer, const std::vector<int32_t>& prompt_ids,
                               const std::vector<int32_t>& continuation);

}  // namespace tttlm::train
