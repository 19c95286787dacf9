#include "train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/text_file.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {
std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", static_cast<long long>(step));
  return buf;
}

bool is_step_name(const std::string& n) {
  if (n.size() <= 5 || n.rfind("step_", 0) != 0) return false;
  for (size_t i = 5; i < n.size(); ++i)
    if (n[i] < '0' || n[i] > '9') return false;
  return true;
}

// "" when every floating-point value is finite, else "tensor NAME holds VALUE at flat index I". Scans the
// raw bits (exponent all ones = inf or NaN), without converting: a 1.3B model stays one pass over 5 GB.
std::string first_non_finite(const std::map<std::string, Tensor>& tensors) {
  for (const auto& [name, t0] : tensors) {
    const Dtype d = t0.dtype();
    if (!t0.defined() || (d != Dtype::f32 && d != Dtype::f64 && d != Dtype::bf16)) continue;
    const Tensor t = t0.device().is_cpu() ? t0 : t0.copy_to(cpu_device());  // save_safetensors needs contiguous too
    if (!t.is_contiguous()) continue;  // save_safetensors refuses it with its own message
    const auto* p = static_cast<const uint8_t*>(t.data_ptr());
    const size_t n = static_cast<size_t>(t.numel());
    size_t bad = n;
    double v = 0;
    for (size_t i = 0; i < n && bad == n; ++i) {
      if (d == Dtype::f64) {
        uint64_t b;
        std::memcpy(&b, p + 8 * i, 8);
        if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) std::memcpy(&v, &b, 8), bad = i;
        continue;
      }
      uint32_t b = 0;
      if (d == Dtype::f32) {
        std::memcpy(&b, p + 4 * i, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        b = static_cast<uint32_t>(h) << 16;  // bf16 is the top half of an f32
      }
      if ((b & 0x7f800000u) == 0x7f800000u) {
        float f;
        std::memcpy(&f, &b, 4);
        v = f, bad = i;
      }
    }
    if (bad < n) {
      return "tensor \"" + name + "\" holds " + std::to_string(v) + " at flat index " + std::to_string(bad) + " (of " +
             std::to_string(n) + ")";
    }
  }
  return "";
}
}  // namespace

std::string save_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data, int64_t keep_last) {
  fs::path root = fs::path(run_dir) / "checkpoints";
  // A checkpoint of a diverged model would become `latest` and poison every resume: refuse it, and leave
  // the previous checkpoint (and `latest`) as they are.
  for (const auto* part : {&data.model, &data.optimizer}) {
    const std::string bad = first_non_finite(*part);
    if (bad.empty()) continue;
    const std::string last = latest_checkpoint(run_dir);
    const char* what = part == &data.model ? "model" : "optimizer state";
    throw RuntimeError("[checkpoint] step " + std::to_string(step) + ": " + what + " " + bad + ": the " + what +
                       " is not finite; checkpoint " + (root / step_name(step)).string() +
                       " was not written. The last good checkpoint is " +
                       (last.empty() ? std::string("(none written yet)") : last) +
                       " (every checkpoint is checked to be finite before it is written)");
  }
  fs::create_directories(root);
  fs::path final_dir = root / step_name(step);
  fs::path tmp = root / (step_name(step) + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  save_safetensors((tmp / "model.safetensors").string(), data.model);
  if (!data.optimizer.empty()) save_safetensors((tmp / "optimizer.safetensors").string(), data.optimizer);
  write_file_atomic((tmp / "state.json").string(), data.state.dump(2) + "\n");
  if (fs::exists(final_dir)) fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
  write_file_atomic((root / "latest").string(), step_name(step) + "\n");
  // Prune: complete checkpoints (no ".tmp-"), oldest first, never the latest.
  std::vector<std::string> done;
  for (const auto& e : fs::directory_iterator(root)) {
    std::string n = e.path().filename().string();
    if (e.is_directory() && n.rfind("step_", 0) == 0) {
      if (n.find(".tmp-") != std::string::npos) {
        if (n.find(".tmp-" + std::to_string(::getpid())) == std::string::npos)
          fs::remove_all(e.path());  // a crashed write
        continue;
      }
      done.push_back(n);
    }
  }
  std::sort(done.begin(), done.end());
  while (static_cast<int64_t>(done.size()) > keep_last) {
    if (done.front() != step_name(step)) fs::remove_all(root / done.front());
    done.erase(done.begin());
  }
  return final_dir.string();
}

std::string latest_checkpoint(const std::string& run_dir) {
  fs::path latest = fs::path(run_dir) / "checkpoints" / "latest";
  std::ifstream f(latest);
  if (!f.good()) return "";
  std::string name;
  std::getline(f, name);
  TTT_CHECK_RT(is_step_name(name), "[checkpoint] ", latest.string(), ": expected the name of a checkpoint directory ",
               "like step_00000100; found \"", name, "\"");
  fs::path dir = fs::path(run_dir) / "checkpoints" / name;
  TTT_CHECK_RT(fs::is_directory(dir), "[checkpoint] ", latest.string(), " names ", name, ", which does not exist");
  return dir.string();
}

CheckpointData load_checkpoint(const std::string& dir, bool with_optimizer) {
  CheckpointData d;
  fs::path p(dir);
  if (fs::is_directory(p / "checkpoints")) {  // a run directory: take its latest
    std::string l = latest_checkpoint(dir);
    TTT_CHECK(!l.empty(), "[checkpoint] ", dir, " has no checkpoints/latest");
    p = l;
  }
  TTT_CHECK(fs::exists(p / "model.safetensors"), "[checkpoint] ", p.string(), ": missing model.safetensors");
  d.model = load_safetensors((p / "model.safetensors").string()).tensors;
  if (fs::exists(p / "state.json")) {
    d.state = read_json_file((p / "state.json").string(), "[checkpoint]");
  }
  if (with_optimizer) {
    TTT_CHECK(fs::exists(p / "optimizer.safetensors"), "[checkpoint] ", p.string(), ": missing optimizer.safetensors");
    d.optimizer = load_safetensors((p / "optimizer.safetensors").string()).tensors;
  }
  return d;
}

}  // namespace tttlm::train
