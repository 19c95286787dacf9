// What `tttlm info` prints: the exact parameter count (from the model's declared parameters, nothing
// allocated), training FLOPs per token and a memory estimate. The FLOP model is in docs/flops.md:
// training = 3 × forward; forward = 2 × (every matmul weight, the tied LM head included) + causal attention
// 2·T·C per layer + the TTT inner loop (dual form, per head and token: linear 6D² + 6·mb·D, MLP 48D² + 30·mb·D)
// + the Mamba scan (7·Di·N per layer).
#pragma once

#include <nlohmann/json.hpp>

#include "layers/model_config.h"

namespace tttlm::layers {

struct ModelInfo {
  int64_t parameters = 0;
  int64_t embedding_parameters = 0;
  double flops_per_token = 0;  // training (forward + backward) at seq_len
  double forward_flops_per_token = 0;
  double inner_loop_flops_per_token = 0;  // TTT inner loop, forward only (included above)
  double weights_bytes = 0, optimizer_bytes = 0, gradient_bytes = 0;
  double activation_bytes = 0;  // estimate for (batch, seq_len) with the configured recompute settings
  double total_bytes() const { return weights_bytes + optimizer_bytes + gradient_bytes + activation_bytes; }
  nlohmann::json to_json() const;
};

ModelInfo model_info(const ModelConfig& c, int64_t batch, int64_t seq_len);

}  // namespace tttlm::layers
