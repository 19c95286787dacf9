// A model directory (what `tttlm init` writes and what a checkpoint holds): config.json (the model section)
// plus model.safetensors. Loading accepts a model directory, a checkpoint directory (whose config.json
// lives two levels up, in the run directory, as config.json with a "model" section) or a run directory.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "layers/causal_lm.h"

namespace tttlm::train {

struct LoadedModel {
  layers::ModelConfig config;
  std::unique_ptr<layers::CausalLM> model;
  std::string weights_path;
};

// The run's config.json for a model path: PATH/config.json for a model or run directory, else the run
// directory two levels up of RUN/checkpoints/step_N; "" when there is none.
std::string run_config_path(const std::string& path);

void save_model(const std::string& dir, const layers::ModelConfig& c, const std::map<std::string, Tensor>& tensors);
LoadedModel load_model(const std::string& path, Device device = cpu_device());
// Writes a freshly initialised model (seeded) to dir.
void init_model_dir(const layers::ModelConfig& c, uint64_t seed, const std::string& dir);

}  // namespace tttlm::train
