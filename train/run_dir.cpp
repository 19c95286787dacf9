#include "train/run_dir.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/text_file.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;

namespace {

bool non_empty_dir(const fs::path& p) { return fs::is_directory(p) && !fs::is_empty(p); }

// The last step recorded in a metrics.jsonl (0 when none), for the refusal message.
int64_t last_logged_step(const fs::path& metrics) {
  std::ifstream in(metrics);
  int64_t last = 0;
  for (std::string line; std::getline(in, line);) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("type", std::string()) == "train") last = j.value("step", last);
    } catch (const std::exception&) {
    }
  }
  return last;
}

nlohmann::json read_json(const fs::path& p) { return read_json_file(p.string(), "[train]"); }

}  // namespace

RunDirCleanup prepare_fresh_run_dir(const std::string& run_dir, bool overwrite) {
  const fs::path ckpts = fs::path(run_dir) / "checkpoints", metrics = fs::path(run_dir) / "metrics.jsonl";
  const bool has_ckpts = non_empty_dir(ckpts), has_metrics = fs::exists(metrics);
  RunDirCleanup out;
  if (!has_ckpts && !has_metrics) return out;
  if (!overwrite) {
    std::string found;
    if (has_ckpts) found = "checkpoints/";
    if (has_metrics)
      found += (found.empty() ? "" : " and ") + std::string("metrics.jsonl (last train step ") +
               std::to_string(last_logged_step(metrics)) + ")";
    throw InvalidArgument("[train] train.run_dir " + run_dir + " already holds a run (found " + found +
                          ", expected an empty or new directory): continue it with `tttlm train " + run_dir +
                          " --resume`, start it over with --overwrite (removes its checkpoints and metrics), or set "
                          "train.run_dir to another directory");
  }
  for (const fs::path& p : {ckpts, metrics})
    if (fs::exists(p)) {
      fs::remove_all(p);
      out.removed.push_back(p.string());
    }
  return out;
}

void save_run_configs(const std::string& run_dir, const RunConfig& cfg) {
  write_file_atomic((fs::path(run_dir) / "config.json").string(), cfg.to_json().dump(2) + "\n");
  write_file_atomic((fs::path(run_dir) / "config.input.json").string(), cfg.input.dump(2) + "\n");
}

RunConfig load_run_dir_config(const std::string& run_dir, const std::vector<std::string>& overrides) {
  const fs::path cfg_path = fs::path(run_dir) / "config.json", input_path = fs::path(run_dir) / "config.input.json";
  TTT_CHECK(fs::exists(cfg_path), "[train] ", run_dir, " is a directory without config.json (not a run directory)");
  nlohmann::json j = read_json(cfg_path);
  nlohmann::json input = fs::exists(input_path) ? read_json(input_path) : j;
  TTT_CHECK(j.is_object() && input.is_object(), "[train] ", run_dir,
            ": config.json and config.input.json must hold JSON objects");
  for (const std::string& key : derived_keys()) {
    const auto dot = key.find('.');
    const std::string section = key.substr(0, dot), name = key.substr(dot + 1);
    if (!j.contains(section) || !j[section].is_object()) continue;
    if (input.contains(section) && input[section].is_object() && input[section].contains(name))
      j[section][name] = input[section][name];  // given explicitly: stays (0 still means "derive")
    else
      j[section].erase(name);  // defaulted: derived again from the (possibly overridden) key it follows
  }
  for (const auto& o : overrides) {
    apply_override(j, o, cfg_path.string());
    apply_override(input, o, input_path.string());
  }
  RunConfig c = run_config_from_json(j, cfg_path.string());
  c.input = input;
  return c;
}

RunConfig resolve_run_config(const std::string& config_or_run_dir, const std::vector<std::string>& overrides) {
  std::error_code ec;  // non-throwing: a path the OS refuses is reported, naming it, by load_run_config
  if (fs::is_directory(config_or_run_dir, ec)) {
    RunConfig c = load_run_dir_config(config_or_run_dir, overrides);
    c.train.run_dir = config_or_run_dir;
    return c;
  }
  return load_run_config(config_or_run_dir, overrides);
}

}  // namespace tttlm::train
