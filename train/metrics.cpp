#include "train/metrics.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace {

// Rewrites `path` (atomically) without the records of steps after `step` and without unparsable lines.
void drop_records_after(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).value("step", int64_t{0}) > step) continue;
    } catch (const std::exception&) {
      continue;  // a torn last line from a crash
    }
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, bool enabled, int64_t resume_step) : path_(path), enabled_(enabled) {
  if (!enabled_) return;
  if (resume_step > 0) drop_records_after(path, resume_step);
  out_.open(path, std::ios::app);
  TTT_CHECK_RT(out_.good(), "[metrics] cannot open ", path, " for appending");
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!enabled_) return;
  nlohmann::json r = record;
  if (!r.contains("time"))
    r["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  errno = 0;
  out_ << r.dump() << '\n';
  out_.flush();
  if (!out_.good()) {
    const std::string err = errno != 0 ? std::strerror(errno) : "stream error";
    out_.clear();  // a later write may try again; this record is reported lost
    const std::string type = record.contains("type") ? record.at("type").dump() : "a";
    const std::string step = record.contains("step") ? record.at("step").dump() : "?";
    throw RuntimeError("[metrics] " + path_ + ": cannot append the " + type + " record of step " + step + " (" + err +
                       "; disk full?); stopping rather than losing metrics");
  }
}

std::string format_duration(double s) {
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ds", static_cast<int>(s));
  return buf;
}

Progress::Progress(int64_t total_steps, bool enabled, int64_t start_step)
    : total_(total_steps),
      enabled_(enabled),
      tty_(enabled && ::isatty(STDOUT_FILENO)),
      first_step_(start_step),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t step, double loss, double lr, double grad_norm, double tokens_per_sec,
                      double flops_per_sec, double mfu) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  int64_t done = step - first_step_;
  double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - step) : 0.0;
  char mfu_text[32] = "";
  if (mfu >= 0) std::snprintf(mfu_text, sizeof mfu_text, "  MFU %.1f%%", 100.0 * mfu);
  std::printf("%sstep %lld/%lld  loss %.4f  lr %.2e  gnorm %.3f  %.0f tok/s  %.1f GFLOP/s%s  ETA %s%s",
              tty_ ? "\r" : "", static_cast<long long>(step), static_cast<long long>(total_), loss, lr, grad_norm,
              tokens_per_sec, flops_per_sec / 1e9, mfu_text, format_duration(eta).c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (!enabled_) return;
  std::printf("%s%s\n", tty_ ? "\r\033[K" : "", line.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (enabled_ && tty_) std::printf("\n");
}

}  // namespace tttlm::train
