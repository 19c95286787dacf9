// Text generation from a model: sampling with temperature (0 = greedy). The prompt is prefilled into a
// layers::Decoder and each new token costs one decoding step (on the CPU; a CUDA model is copied there).
// TTT and Mamba models keep the whole context. A Transformer holds at most max_seq_len positions: a longer
// prompt is cut to its last max_seq_len tokens, and when the cache is full the decoder restarts from the
// last max_seq_len / 2 tokens (one prefill), so every prediction sees at least that much context.
#pragma once

#include <cstdint>
#include <vector>

#include "layers/causal_lm.h"

namespace tttlm::train {

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> prompt, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id = -1);

}  // namespace tttlm::train
