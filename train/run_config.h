// RunConfig: a whole training run from one JSON file with sections model, data, train, optimizer,
// parallel, log. Every key has one default (here, documented in docs/config.md); unknown keys are errors
// with the nearest known key; "include": "path" merges a base file first (paths relative to the including
// file, recursively); `--set a.b=v` overrides are applied last (v parsed as JSON, else taken as a string).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/model_config.h"

namespace tttlm::train {

struct DataConfig {
  std::string path;            // folder of train.npy/validation.npy, or .bin shards folder
  std::string format = "npy";  // npy | bin
  std::string train_split = "train";
  std::string val_split = "validation";
  int64_t seq_len = 0;   // 0 = model.max_seq_len
  bool mask_bos = true;  // loss mask = target != bos_id (official Llama-2 rule)
  int64_t bos_id = 1;
  std::string tokenizer;  // optional tokenizer.model, for generate
  int64_t prefetch = 2;   // batches prepared ahead by a background thread
};

struct TrainSection {
  int64_t global_batch_size = 8;  // sequences per optimizer step, across all ranks and accumulation steps
  int64_t micro_batch_size = 1;   // sequences per forward/backward per rank
  int64_t total_steps = 100;
  int64_t seed = 0;
  std::string precision = "fp32";  // fp32 | bf16 (mixed precision on both devices: docs/precision.md)
  std::string device = "cpu";      // cpu | cuda
  int64_t eval_every = 100;        // 0 = only at the end
  int64_t eval_batches = 8;
  int64_t checkpoint_every = 100;  // 0 = only at the end
  int64_t keep_last = 3;
  std::string run_dir;             // default: runs/<config file stem>
  int64_t threads = 0;             // OpenMP threads; 0 = all cores
  bool skip_memory_check = false;  // start even when the memory estimate exceeds what is available
};

struct OptimizerConfig {
  double lr = 3e-3, end_lr = 1e-5;
  int64_t warmup_steps = 10, decay_steps = 0;  // decay_steps 0 or absent = total_steps
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
  double clip_grad_norm = 1.0;  // <= 0 disables clipping
};

struct ParallelConfig {
  std::string backend = "auto";  // auto | single | mpi | nccl
  bool zero1 = false;
  double bucket_mb = 25.0;
  int64_t timeout_s = 300;  // a rank silent this long makes the others fail
};

struct LogConfig {
  int64_t every = 1;
  bool progress = true;
  double peak_gflops = 0;  // for MFU; 0 = the measured peak file (train/peak_flops.h), else MFU is not reported
};

struct RunConfig {
  layers::ModelConfig model;
  DataConfig data;
  TrainSection train;
  OptimizerConfig optimizer;
  ParallelConfig parallel;
  LogConfig log;
  std::string source;       // the file it came from
  nlohmann::json input;     // the merged JSON as given (includes and overrides applied), before defaults
  nlohmann::json resolved;  // the merged JSON with every default filled in

  int64_t accumulation_steps(int64_t world_size) const;
  nlohmann::json to_json() const;
  // FNV-1a 64 of the resolved config dumped canonically (keys sorted, no spaces), as 16 hex digits.
  std::string hash() const;
};

// Keys whose default follows another key ("section.key"): optimizer.decay_steps (= train.total_steps) and
// data.seq_len (= model.max_seq_len). A run directory re-derives them on resume unless the run's input
// config gave them explicitly.
const std::vector<std::string>& derived_keys();

// Reads `path`, resolving includes, applying overrides ("a.b=v"), validating everything.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides = {});
RunConfig run_config_from_json(const nlohmann::json& merged, const std::string& source);
// The merged JSON of `path` with its includes, before defaults (exposed for tests).
nlohmann::json load_json_with_includes(const std::string& path, int depth = 0);
void apply_override(nlohmann::json& j, const std::string& assignment, const std::string& source);

}  // namespace tttlm::train
