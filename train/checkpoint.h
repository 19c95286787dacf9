// Checkpoints: RUN/checkpoints/step_NNNNNNNN/ holding model.safetensors, optimizer.safetensors and
// state.json (step, optimizer count, data sampler state, config hash, world size). A checkpoint is written
// into a temporary directory, every file fsynced, then renamed into place; only then is RUN/checkpoints/latest
// (a small text file naming the directory) replaced atomically. A crash at any point leaves the previous
// checkpoint and `latest` intact. The oldest complete checkpoints beyond keep_last are removed.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"

namespace tttlm::train {

struct CheckpointData {
  std::map<std::string, Tensor> model;
  std::map<std::string, Tensor> optimizer;
  nlohmann::json state;  // {"step", "optimizer_count", "sampler", "config_hash", "world_size", ...}
};

// Writes step `step` under `run_dir`/checkpoints and prunes; returns the checkpoint directory.
std::string save_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data, int64_t keep_last);
// The directory `latest` points to, or "" when there is none.
std::string latest_checkpoint(const std::string& run_dir);
// Loads a checkpoint directory (errors name the directory and the missing or bad file).
CheckpointData load_checkpoint(const std::string& dir, bool with_optimizer = true);

}  // namespace tttlm::train
