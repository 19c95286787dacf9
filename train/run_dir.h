// The run directory's lifecycle around the checkpoints: a fresh run refuses a directory that already
// holds a run (checkpoints or metrics) unless told to overwrite it; the run's configs are saved as
// config.json (resolved, every default filled in) and config.input.json (as given, before defaults); a
// resume rebuilds its config from both so that defaults which follow another key (derived_keys(), e.g.
// optimizer.decay_steps = train.total_steps) are derived again from the new values.
#pragma once

#include <string>
#include <vector>

#include "train/run_config.h"

namespace tttlm::train {

// What prepare_fresh_run_dir found and removed (empty when the directory held no run).
struct RunDirCleanup {
  std::vector<std::string> removed;  // paths removed (with overwrite)
};

// For a run that starts at step 0 in `run_dir`: throws naming --resume and --overwrite when the directory
// holds checkpoints or a metrics.jsonl; with `overwrite` removes them instead and says what it removed.
RunDirCleanup prepare_fresh_run_dir(const std::string& run_dir, bool overwrite);

// Writes RUN/config.json (cfg.to_json(), the resolved config) and RUN/config.input.json (cfg.input), atomically.
void save_run_configs(const std::string& run_dir, const RunConfig& cfg);

// The config of the run in `run_dir` with `overrides` applied: config.json's values, except that each
// derived key is taken from config.input.json (absent there: derived again). A run directory written
// before config.input.json existed keeps every value of config.json.
RunConfig load_run_dir_config(const std::string& run_dir, const std::vector<std::string>& overrides);

// The config of a run, resolved once for the whole process (communicator choice and trainer): a config
// file, or a run directory (load_run_dir_config, with its run_dir set to that directory), with `overrides`
// (--set a.b=v) applied.
RunConfig resolve_run_config(const std::string& config_or_run_dir, const std::vector<std::string>& overrides);

}  // namespace tttlm::train
