// Metrics: one JSON object per line (metrics.jsonl in the run directory, schema in docs/metrics.md), each
// with its wall-clock "time" (unix seconds), and a one-line progress display
// with step, loss, lr, grad norm, tokens/s, MFU and ETA on a terminal (a plain line every `every` steps
// when stdout is not a terminal).
#pragma once

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace tttlm::train {

class MetricsLog {
 public:
  // Appends to `path` (created if missing); `enabled` false (ranks other than 0) makes every call a no-op.
  // A run resumed at `resume_step` > 0 first drops the records of later steps (logged by a run killed after
  // its last checkpoint; this run logs them again) and a torn last line from a crash.
  MetricsLog(const std::string& path, bool enabled, int64_t resume_step = 0);
  // Appends one line and flushes, adding "time" (unix seconds, fractional) unless the record has it; throws
  // RuntimeError naming the file (and the OS error) when the write or the flush fails (a full disk), so
  // that no record is dropped silently.
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
  bool enabled_;
};

class Progress {
 public:
  // `start_step`: the step the run starts (or resumes) from; the ETA counts from there.
  Progress(int64_t total_steps, bool enabled, int64_t start_step = 0);
  // Prints the progress line for `step`; eta from the mean time of the steps seen so far.
  // flops_per_sec: achieved model FLOP/s (all ranks); mfu < 0: unknown peak, not printed.
  void update(int64_t step, double loss, double lr, double grad_norm, double tokens_per_sec, double flops_per_sec,
              double mfu);
  void message(const std::string& line);  // a full line above the progress display
  void finish();

 private:
  int64_t total_;
  bool enabled_, tty_;
  int64_t first_step_ = 0;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace tttlm::train
