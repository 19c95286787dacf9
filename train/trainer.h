// The training loop (`tttlm train`): config -> model, optimizer, data (train/train_state.h); per step
// (train/train_step.h): micro-batches with gradient accumulation, gradient all-reduce, clipping, AdamW with
// the official schedule; then metrics, periodic evaluation and atomic checkpoints. A resume continues
// bit-exactly. A NaN/inf loss or gradient norm stops the run naming the step and the last good checkpoint.
#pragma once

#include <string>
#include <vector>

#include "train/communicator.h"
#include "train/run_config.h"

namespace tttlm::train {

struct TrainOptions {
  std::string config_path;             // a config file, or a run directory with --resume
  std::vector<std::string> overrides;  // --set a.b=v
  bool resume = false;
  bool overwrite = false;  // a fresh run removes the run directory's checkpoints and metrics
  bool quiet = false;
  // Stop after this step as if killed there (0: run to train.total_steps). Nothing extra is saved, so a
  // resume continues from the last periodic checkpoint; tests use it to interrupt a run.
  int64_t stop_after_step = 0;
};

struct TrainResult {
  int64_t steps_done = 0;
  double final_loss = 0;
  double final_eval_loss = 0;
  std::string run_dir;
  std::vector<std::string> warnings;  // also printed on stderr (rank 0)
  // Set when a stop signal (train/stop_signal.h) ended the run early: the signal's name, and on rank 0
  // the checkpoint written at the step it stopped after.
  std::string stopped_by;
  std::string checkpoint;
};

// Trains the run `cfg` (resolved once by the caller: resolve_run_config in train/run_dir.h), from its last
// checkpoint when options.resume.
TrainResult run_training(const RunConfig& cfg, const TrainOptions& options, Communicator& comm);
// The same, resolving options.config_path and options.overrides first.
TrainResult run_training(const TrainOptions& options, Communicator& comm);

}  // namespace tttlm::train
