// The training loop (`tttlm train`): config -> model, optimizer, data; per step: micro-batches with
// gradient accumulation, gradient all-reduce, clipping, AdamW with the official schedule, metrics, periodic
// evaluation and atomic checkpoints; a resume continues bit-exactly. A NaN/inf loss or gradient norm
// stops the run naming the step and keeps the last good checkpoint.
#pragma once

#include <string>
#include <vector>

#include "train/communicator.h"
#include "train/run_config.h"

namespace tttlm::train {

struct TrainOptions {
  std::string config_path;              // a config file, or a run directory with --resume
  std::vector<std::string> overrides;   // --set a.b=v
  bool resume = false;
  bool overwrite = false;               // a fresh run removes the run directory's checkpoints and metrics
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

TrainResult run_training(const TrainOptions& options, Communicator& comm);
// The config of a run: the file, or a run directory's config (load_run_dir_config: config.json, with the
// defaults that follow another key derived again; its run_dir set to that directory), with the overrides
// applied.
RunConfig resolve_run_config(const TrainOptions& options);

// Loss and per-position loss of a model directory or checkpoint on a split (`tttlm eval`).
struct EvalResult {
  double loss = 0, perplexity = 0;
  int64_t tokens = 0;
  std::vector<double> per_position;  // mean loss at each position
};

}  // namespace tttlm::train
