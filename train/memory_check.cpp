#include "train/memory_check.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "layers/model_info.h"

namespace tttlm::train {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / kGiB);
  return buf;
}

// The first whitespace-separated word of a file as a byte count; nullopt if absent or not a number
// ("max" in a cgroup v2 file means no limit).
std::optional<double> read_bytes(const char* path) {
  std::ifstream f(path);
  std::string word;
  if (!(f >> word)) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(word.c_str(), &end);
  if (end == word.c_str() || *end != '\0') return std::nullopt;
  return v;
}

std::optional<double> meminfo_available() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream in(line.substr(13));
    double kib = 0;
    if (in >> kib) return kib * 1024.0;
  }
  return std::nullopt;
}

bool skip_by_env() {
  const char* s = std::getenv("TTTLM_SKIP_MEMORY_CHECK");
  return s && *s && std::string(s) != "0";
}

void check(const std::string& what, double need, const std::string& breakdown, const Device& device,
           const std::string& knobs) {
  if (skip_by_env()) return;
  const std::optional<AvailableMemory> avail = available_memory(device);
  if (!avail || need <= avail->bytes) return;
  throw InvalidArgument(what + ": needs an estimated " + gib(need) + " (" + breakdown + ") but " + gib(avail->bytes) +
                        " is available (" + avail->source + "); " + knobs);
}

}  // namespace

std::optional<AvailableMemory> available_memory(const Device& device) {
  if (const char* s = std::getenv("TTTLM_MEMORY_LIMIT_BYTES"); s && *s) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    TTT_CHECK(end != s && *end == '\0' && v >= 0,
              "[memory] environment variable TTTLM_MEMORY_LIMIT_BYTES: expected a "
              "byte count >= 0, found \"",
              s, "\"");
    return AvailableMemory{v, "TTTLM_MEMORY_LIMIT_BYTES"};
  }
  if (device.is_cuda()) {
    const CudaMemoryInfo m = cuda_memory_info(device.index);
    return AvailableMemory{static_cast<double>(m.free_bytes), "free memory of GPU " + std::to_string(device.index) +
                                                                  " (cudaMemGetInfo, of " +
                                                                  gib(static_cast<double>(m.total_bytes)) + ")"};
  }
  std::optional<AvailableMemory> best;
  auto consider = [&](std::optional<double> bytes, const std::string& source) {
    if (bytes && (!best || *bytes < best->bytes)) best = AvailableMemory{*bytes, source};
  };
  consider(meminfo_available(), "MemAvailable in /proc/meminfo");
  if (auto limit = read_bytes("/sys/fs/cgroup/memory.max"))
    consider(*limit - read_bytes("/sys/fs/cgroup/memory.current").value_or(0),
             "cgroup limit /sys/fs/cgroup/memory.max " + gib(*limit) + " less its usage");
  if (auto limit = read_bytes("/sys/fs/cgroup/memory/memory.limit_in_bytes"); limit && *limit < 1e18)
    consider(*limit - read_bytes("/sys/fs/cgroup/memory/memory.usage_in_bytes").value_or(0),
             "cgroup limit /sys/fs/cgroup/memory/memory.limit_in_bytes " + gib(*limit) + " less its usage");
  return best;
}

void check_training_memory(const RunConfig& cfg, const Device& device, int world_size) {
  if (cfg.train.skip_memory_check) return;
  const layers::ModelInfo info = layers::model_info(cfg.model, cfg.train.micro_batch_size, cfg.data.seq_len);
  const double optimizer =
      cfg.parallel.zero1 && world_size > 1 ? info.optimizer_bytes / world_size : info.optimizer_bytes;
  // bf16 training adds the matmul weights' bf16 copies (at most half the f32 weights' bytes).
  const double copies = cfg.train.precision == "bf16" ? info.weights_bytes / 2 : 0.0;
  const double need = info.weights_bytes + copies + info.gradient_bytes + optimizer + info.activation_bytes;
  const std::string breakdown =
      "weights " + gib(info.weights_bytes) + (copies > 0 ? ", their bf16 copies " + gib(copies) : std::string()) +
      ", gradients " + gib(info.gradient_bytes) + ", AdamW " + gib(optimizer) + ", activations " +
      gib(info.activation_bytes) + " for train.micro_batch_size " + std::to_string(cfg.train.micro_batch_size) +
      " x data.seq_len " + std::to_string(cfg.data.seq_len) + ", per rank";
  std::string knobs =
      cfg.train.micro_batch_size > 1
          ? "lower train.micro_batch_size (gradient accumulation keeps train.global_batch_size) or data.seq_len"
          : "lower data.seq_len";
  if (!cfg.model.recompute_blocks)
    knobs += ", set model.recompute_blocks=true (recompute block activations in backward)";
  knobs += ", or train a smaller model (`tttlm info " + cfg.source +
           "` prints the estimate); --set train.skip_memory_check=true starts anyway";
  check("[train] " + cfg.source, need, breakdown, device, knobs);
}

void check_model_memory(const char* command, const layers::ModelConfig& model, const std::string& source,
                        const Device& device) {
  const layers::ModelInfo info = layers::model_info(model, 1, 1);
  check(std::string("[") + command + "] " + source, info.weights_bytes,
        "the weights of " + std::to_string(info.parameters) + " parameters", device,
        "use a smaller model, or set TTTLM_SKIP_MEMORY_CHECK=1 to start anyway");
}

}  // namespace tttlm::train
