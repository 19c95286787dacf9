#include "train/resume_state.h"

#include "core/error.h"

namespace tttlm::train {

namespace {

const nlohmann::json& field(const nlohmann::json& state, const std::string& path, const char* key,
                            const char* expected) {
  TTT_CHECK(state.contains(key), "[checkpoint] ", path, ": key '", key, "': expected ", expected, "; found none");
  return state.at(key);
}

int64_t integer_in(const nlohmann::json& state, const std::string& path, const char* key, int64_t lo, int64_t hi,
                   const std::string& range) {
  const std::string expected = "an integer in " + range;
  const nlohmann::json& v = field(state, path, key, expected.c_str());
  // Unsigned values above INT64_MAX are out of range as well; floats, strings and booleans are type errors.
  const bool integral = v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= INT64_MAX);
  TTT_CHECK(integral && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi, "[checkpoint] ", path, ": key '", key,
            "': expected ", expected, "; found ", v.dump());
  return v.get<int64_t>();
}

}  // namespace

ResumeState parse_resume_state(const nlohmann::json& state, const std::string& path, int64_t total_steps) {
  TTT_CHECK(state.is_object(), "[checkpoint] ", path, ": expected a JSON object with step, optimizer_count, sampler ",
            "and model; found ", state.is_null() ? std::string("no state (is the file missing?)") : state.dump());
  ResumeState r;
  r.step = integer_in(state, path, "step", 0, total_steps,
                      "[0, " + std::to_string(total_steps) + "] (train.total_steps of this run)");
  r.optimizer_count = integer_in(state, path, "optimizer_count", 0, r.step,
                                 "[0, " + std::to_string(r.step) + "] (the checkpoint's step)");
  r.sampler = field(state, path, "sampler", "an object");
  TTT_CHECK(r.sampler.is_object(), "[checkpoint] ", path, ": key 'sampler': expected an object; found ",
            r.sampler.dump());
  r.model = field(state, path, "model", "an object (the model section)");
  TTT_CHECK(r.model.is_object(), "[checkpoint] ", path, ": key 'model': expected an object (the model section); found ",
            r.model.dump());
  if (state.contains("world_size")) integer_in(state, path, "world_size", 1, INT32_MAX, "[1, 2147483647]");
  if (state.contains("seed")) integer_in(state, path, "seed", INT64_MIN, INT64_MAX, "int64");
  if (state.contains("config_hash"))
    TTT_CHECK(state["config_hash"].is_string(), "[checkpoint] ", path, ": key 'config_hash': expected a string; found ",
              state["config_hash"].dump());
  return r;
}

}  // namespace tttlm::train
