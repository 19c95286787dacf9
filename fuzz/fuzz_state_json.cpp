// Fuzzes a checkpoint's state.json as a resume reads it: load_checkpoint parses it (beside a valid, empty
// model.safetensors), parse_resume_state validates its keys, and the sampler section goes to
// Sampler::load_state_json, as TrainData::load_state does. The input is the whole state.json.
// Failure: any crash, sanitizer report or exception other than tttlm::Error.
#include "data/sampler.h"
#include "fuzz/fuzz_common.h"
#include "train/checkpoint.h"
#include "train/resume_state.h"
#include "train/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  static const bool model_written = [] {
    train::save_safetensors(fuzz::temp_dir() + "/model.safetensors", {});
    return true;
  }();
  (void)model_written;
  const std::string path = fuzz::write_temp("state.json", {reinterpret_cast<const char*>(data), size});
  fuzz::expect_clean_errors([&] {
    const train::CheckpointData ck = train::load_checkpoint(fuzz::temp_dir(), /*with_optimizer=*/false);
    const train::ResumeState rs = train::parse_resume_state(ck.state, path, 1000);
    data::SamplerOptions options;
    options.num_samples = 64;
    options.global_batch = 4;
    data::Sampler sampler(options);
    sampler.load_state_json(rs.sampler);
    (void)sampler.next();
  });
  return 0;
}
