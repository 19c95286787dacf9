// The state.json of a checkpoint, validated before a resume touches anything: every key present with the
// right type and a sensible value, so a hand-edited or corrupt file is refused with a message naming the
// file, the key, what was expected and what was found (never a raw JSON type error, never a run that
// resumes at a negative step).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tttlm::train {

struct ResumeState {
  int64_t step = 0;             // optimizer steps done, in [0, total_steps]
  int64_t optimizer_count = 0;  // AdamW's step count, in [0, step]
  nlohmann::json sampler;       // an object; the sampler checks its fields (data::Sampler::load_state_json)
  nlohmann::json model;         // the model section the checkpoint was trained with (an object)
};

// `state`: the parsed state.json (null when the file is missing); `path` names it in errors;
// `total_steps`: train.total_steps of the resuming run. Throws InvalidArgument.
ResumeState parse_resume_state(const nlohmann::json& state, const std::string& path, int64_t total_steps);

}  // namespace tttlm::train
