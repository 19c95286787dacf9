// Evaluation: mean loss (the official per-sequence masked mean, averaged over batches), perplexity and
// the loss at each token position, over the first `max_batches` sequential batches of a split.
#pragma once

#include <string>
#include <vector>

#include "layers/causal_lm.h"
#include "train/data_pipeline.h"

namespace tttlm::train {

struct EvalResult {
  double loss = 0, perplexity = 0;
  int64_t tokens = 0;
  std::vector<double> per_position;  // mean loss at each position
};

EvalResult evaluate(const layers::CausalLM& model, const EvalData& data, int64_t max_batches, Device device);

}  // namespace tttlm::train
