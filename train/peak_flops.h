// The denominator of MFU: the matmul peak of this machine's device at the run's precision. Never a
// constant of one machine: it is log.peak_gflops when the config gives it, otherwise the rate that
// `bench_models gemm --write` measured here (f32 and bf16 matmuls through tttlm's own GEMM path) and stored
// in the peak file; with neither, MFU is not reported (achieved FLOP/s always is).
// Peak file: $TTTLM_PEAK_FILE, else $XDG_CACHE_HOME/tttlm/peak_gflops.json, else ~/.cache/tttlm/peak_gflops.json;
// {"host": "...", "cpu": {"fp32": G, "bf16": G}, "cuda": {...}} in GFLOP/s per device (one GPU, or all
// the CPU cores the benchmark used); entries from another host are ignored.
#pragma once

#include <string>

#include "core/device.h"

namespace tttlm::train {

struct Peak {
  double gflops = 0;   // 0: unknown (MFU not reported)
  std::string source;  // "log.peak_gflops", the peak file's path, or "none"
};

std::string peak_file_path();
// configured > 0 wins; otherwise the peak file's entry for (device kind, precision "fp32"|"bf16").
Peak matmul_peak(double configured_gflops, Device device, const std::string& precision);
// Records one measured entry (keeping the others of this host) in the peak file; returns its path.
std::string write_matmul_peak(Device device, const std::string& precision, double gflops);

}  // namespace tttlm::train
