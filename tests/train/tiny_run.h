// A tiny training run for the robustness tests: a 2-layer TTT-Linear model on synthetic tokens in a
// fresh temporary directory, trained through run_training with any Communicator.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/npy.h"
#include "train/communicator.h"
#include "train/trainer.h"

namespace tttlm::test {

struct TinyRun {
  std::filesystem::path root;
  std::string config;

  // Synthetic "text": a noisy repeating pattern over 61 ids (noise from `seed`), with BOS (1) now and then.
  explicit TinyRun(const std::string& name, uint32_t seed = 4321, const std::string& prefix = "tttlm_robust_") {
    namespace fs = std::filesystem;
    root = fs::temp_directory_path() / (prefix + name + "_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "data");
    std::vector<uint16_t> train(6000), val(1200);
    uint32_t s = seed;
    for (auto* v : {&train, &val})
      for (size_t i = 0; i < v->size(); ++i) {
        s = s * 1103515245u + 12345u;
        (*v)[i] = static_cast<uint16_t>(i % 97 == 0 ? 1 : (i * 7 + (s >> 28)) % 61);
      }
    data::write_npy((root / "data/train.npy").string(), train.data(), Dtype::u16, {static_cast<int64_t>(train.size())});
    data::write_npy((root / "data/validation.npy").string(), val.data(), Dtype::u16,
                    {static_cast<int64_t>(val.size())});
    config = (root / "run.json").string();
    std::ofstream(config)
        << R"({"model": {"kind": "ttt-linear-mamba", "vocab_size": 61, "hidden_size": 32, "num_heads": 4,
      "num_layers": 2, "intermediate_size": 48, "max_seq_len": 32, "mini_batch_size": 8},
      "data": {"path": ")"
        << (root / "data").string() << R"(", "seq_len": 32},
      "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 6, "eval_every": 3, "eval_batches": 2,
                "checkpoint_every": 3, "keep_last": 5},
      "optimizer": {"lr": 0.01, "warmup_steps": 2},
      "log": {"progress": false}})";
  }
  ~TinyRun() { std::filesystem::remove_all(root); }
  TinyRun(const TinyRun&) = delete;
  TinyRun& operator=(const TinyRun&) = delete;

  std::string run_dir(const std::string& run) const { return (root / run).string(); }

  train::TrainResult train(const std::string& run, std::vector<std::string> sets, bool resume, int64_t stop_after,
                           train::Communicator& comm) {
    train::TrainOptions o;
    o.stop_after_step = stop_after;
    o.config_path = resume ? run_dir(run) : config;
    sets.push_back("train.run_dir=" + run_dir(run));
    o.overrides = sets;
    o.resume = resume;
    o.quiet = true;
    return train::run_training(o, comm);
  }
  train::TrainResult train(const std::string& run, std::vector<std::string> sets = {}, bool resume = false,
                           int64_t stop_after = 0) {
    train::SingleProcess comm;
    return train(run, std::move(sets), resume, stop_after, comm);
  }
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace tttlm::test
