// The trainer's view of the data: batches of (inputs, targets, loss mask) for this rank, with a resumable
// position, built from data/ (token sources, windows, sampler, prefetching loader).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tensor.h"
#include "train/run_config.h"

namespace tttlm::train {

struct Batch {
  Tensor inputs;   // (B, T) i32
  Tensor targets;  // (B, T) i32
  Tensor mask;     // (B, T) f32
};

class TrainData {
 public:
  // Each optimizer step consumes global_batch_size samples; this rank gets its share in micro-batches.
  TrainData(const RunConfig& c, int rank, int world_size);
  ~TrainData();
  Batch next_micro_batch();
  // Sampler position at the start of the next optimizer step.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);
  int64_t num_samples() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sequential batches of a split for evaluation (the same for every call).
class EvalData {
 public:
  EvalData(const RunConfig& c, const std::string& split, int64_t batch_size);
  ~EvalData();
  int64_t num_batches() const;
  Batch batch(int64_t i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tttlm::train
