// Memory check before a model is materialised: the estimate of layers/model_info.h (weights, gradients,
// AdamW moments, activations at the micro-batch and seq_len, with the recompute settings) against the
// memory this process may still use, so that a model that cannot fit is refused with the numbers and the
// knobs that lower them instead of growing until the kernel's OOM killer ends it.
//
// Available memory on the CPU: the smaller of MemAvailable in /proc/meminfo and the cgroup's limit less its
// usage (v2 memory.max / memory.current, v1 memory.limit_in_bytes / memory.usage_in_bytes). On CUDA: the
// device's free memory as cudaMemGetInfo reports it. The environment variable
// TTTLM_MEMORY_LIMIT_BYTES replaces the measured value (tests, or a share of a node); TTTLM_SKIP_MEMORY_CHECK=1
// or train.skip_memory_check skips the check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/device.h"
#include "layers/model_config.h"
#include "train/run_config.h"

namespace tttlm::train {

struct AvailableMemory {
  double bytes = 0;
  std::string source;  // where the number came from, for the message
};

// What this process may still allocate on `device`; nullopt when unknown (no /proc).
std::optional<AvailableMemory> available_memory(const Device& device);

// Training: throws InvalidArgument when the estimate for one rank exceeds the available memory.
// `world_size` divides the AdamW moments when parallel.zero1 is set.
void check_training_memory(const RunConfig& cfg, const Device& device, int world_size);

// Loading or initialising a model for inference or saving (`init`, `eval`, `generate`): the weights only.
void check_model_memory(const char* command, const layers::ModelConfig& model, const std::string& source,
                        const Device& device);

}  // namespace tttlm::train
