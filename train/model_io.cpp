#include "train/model_io.h"

#include <filesystem>
#include <fstream>

#include "train/checkpoint.h"
#include "train/memory_check.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;

void save_model(const std::string& dir, const layers::ModelConfig& c, const std::map<std::string, Tensor>& tensors) {
  fs::create_directories(dir);
  write_file_atomic((fs::path(dir) / "config.json").string(), nlohmann::json{{"model", c.to_json()}}.dump(2) + "\n");
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
}

void init_model_dir(const layers::ModelConfig& c, uint64_t seed, const std::string& dir) {
  check_model_memory("init", c, dir, cpu_device());
  layers::CausalLM m(c);
  m.materialize(cpu_device(), seed);
  save_model(dir, c, m.state_dict());
}

std::string run_config_path(const std::string& path) {
  fs::path p(path);
  if (fs::exists(p / "config.json")) return (p / "config.json").string();
  fs::path up = p.parent_path().parent_path() / "config.json";  // RUN/checkpoints/step_N
  return fs::exists(up) ? up.string() : "";
}

LoadedModel load_model(const std::string& path_in, Device device) {
  fs::path p(path_in);
  if (fs::is_directory(p / "checkpoints")) p = latest_checkpoint(path_in);  // run directory
  const std::string cfg_path = run_config_path(p.string());
  TTT_CHECK(!cfg_path.empty(), "[load] ", path_in, ": no config.json beside the weights or in the run directory");
  fs::path cfg(cfg_path);
  std::ifstream f(cfg);
  TTT_CHECK(f.good(), "[load] cannot open ", cfg.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidArgument("[load] " + cfg.string() + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range 406: a number beyond double's range (1e999)
    throw InvalidArgument("[load] " + cfg.string() + ": invalid JSON: " + e.what());
  }
  TTT_CHECK(j.is_object() && j.contains("model"), "[load] ", cfg.string(), ": no \"model\" section");
  LoadedModel out;
  out.config = layers::ModelConfig::from_json(j["model"], cfg.string());
  check_model_memory("load", out.config, cfg.string(), device);
  out.model = std::make_unique<layers::CausalLM>(out.config);
  out.weights_path = (p / "model.safetensors").string();
  TTT_CHECK(fs::exists(out.weights_path), "[load] ", p.string(), ": missing model.safetensors");
  auto st = load_safetensors(out.weights_path);
  out.model->load_state_dict(st.tensors, out.weights_path);
  if (!device.is_cpu()) out.model->to_device(device);
  return out;
}

}  // namespace tttlm::train
