#include "train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {
std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", static_cast<long long>(step));
  return buf;
}
}  // namespace

std::string save_checkpoint(const std::string& run_dir, int64_t step, const CheckpointData& data, int64_t keep_last) {
  fs::path root = fs::path(run_dir) / "checkpoints";
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
        if (n.find(".tmp-" + std::to_string(::getpid())) == std::string::npos) fs::remove_all(e.path());  // a crashed write
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
    std::ifstream f(p / "state.json");
    try {
      d.state = nlohmann::json::parse(f);
    } catch (const std::exception& e) {
      throw InvalidArgument("[checkpoint] " + (p / "state.json").string() + ": invalid JSON: " + e.what());
    }
  }
  if (with_optimizer) {
    TTT_CHECK(fs::exists(p / "optimizer.safetensors"), "[checkpoint] ", p.string(), ": missing optimizer.safetensors");
    d.optimizer = load_safetensors((p / "optimizer.safetensors").string()).tensors;
  }
  return d;
}

}  // namespace tttlm::train
