// Fuzzes the run-config reader (load_run_config): JSON with comments, "include" of a base file, and
// `--set KEY.PATH=VALUE` overrides, then validation of every section. The input packs three parts separated
// by a line "@@": run.json, base.json (beside it, so "include": "base.json" finds it; it may include
// run.json back, a cycle) and the overrides, one per line. The loaded config is also hashed and dumped, as
// every run does. Failure: any crash, sanitizer report or exception other than tttlm::Error.
#include "fuzz/fuzz_common.h"
#include "train/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  const std::vector<std::string> parts = fuzz::split({reinterpret_cast<const char*>(data), size}, "\n@@\n");
  const std::string run = fuzz::write_temp("run.json", parts[0]);
  fuzz::write_temp("base.json", parts.size() > 1 ? parts[1] : "{}");
  std::vector<std::string> overrides;
  if (parts.size() > 2) {
    overrides = fuzz::split(parts[2], "\n");
    if (!overrides.empty() && overrides.back().empty()) overrides.pop_back();
  }
  fuzz::expect_clean_errors([&] {
    const train::RunConfig c = train::load_run_config(run, overrides);
    (void)c.hash();
    (void)c.resolved.dump();
    (void)c.input.dump();
    (void)c.accumulation_steps(1);
  });
  return 0;
}
