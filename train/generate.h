// Text generation from a model: sampling with temperature (0 = greedy) from the full-sequence forward at
// each new token (the cost is quadratic in the length; fine for the short samples `tttlm generate` makes).
#pragma once

#include <cstdint>
#include <vector>

#include "layers/causal_lm.h"

namespace tttlm::train {

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> prompt, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id = -1);

}  // namespace tttlm::train
