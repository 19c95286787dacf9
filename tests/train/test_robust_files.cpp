// Files a user may hand tttlm, or a disk that fills up: crafted safetensors headers are refused with the
// file, tensor and field named (never a wrapped size, an aliased range or a raw JSON type error); a
// checkpoint with a non-finite value is never written; a metrics record that cannot be written fails.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "data/tokenizer.h"
#include "train/checkpoint.h"
#include "train/hf_format.h"
#include "train/metrics.h"
#include "train/model_io.h"
#include "train/run_config.h"
#include "train/run_dir.h"
#include "train/safetensors.h"
#include "tiny_run.h"

using namespace tttlm;
using namespace tttlm::train;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A safetensors file from a header text and `data_bytes` zero bytes of data.
std::string write_st(const std::string& name, const std::string& header, size_t data_bytes) {
  const std::string path =
      (fs::temp_directory_path() / ("tttlm_st_" + std::to_string(::getpid()) + "_" + name)).string();
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += header;
  bytes.append(data_bytes, '\0');
  test::spit(path, bytes);
  return path;
}

}  // namespace

TEST_CASE("safetensors: crafted headers are refused naming the file, tensor and field", "[train][robust]") {
  struct Bad {
    const char* name;
    std::string header;
    size_t data;
    std::vector<const char*> says;
  };
  const std::vector<Bad> cases = {
      // 2^61 F64 elements need 2^64 bytes: the product wraps to 0 and matched the range [0, 0].
      {"wrap",
       R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})",
       0,
       {"tensor \"w\"", "field 'shape'", "64 bits"}},
      {"wrap2",
       R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})",
       0,
       {"tensor \"w\"", "field 'shape'"}},
      // Empty, yet a tensor's strides would overflow int64 (Tensor::empty had undefined behaviour).
      {"empty_huge",
       R"({"w":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})",
       0,
       {"tensor \"w\"", "field 'shape'", "non-zero dimensions"}},
      {"negative",
       R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})",
       0,
       {"tensor \"w\"", "field 'shape'", "non-negative", "[-1]"}},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12,
       {"field 'data_offsets'", "tensor \"b\" [4, 12] overlaps tensor \"a\" [0, 8]"}},
      {"past_end",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       4,
       {"tensor \"w\"", "field 'data_offsets'", "expected end <= 4", "found end 8", "truncated"}},
      {"reversed",
       R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
       8,
       {"tensor \"w\"", "expected begin <= end", "found [8, 0]"}},
      {"size",
       R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
       8,
       {"tensor \"w\"", "needs 12 bytes", "[0, 8] of 8 bytes"}},
      {"offsets_type",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":"x"}})",
       8,
       {"tensor \"w\"", "field 'data_offsets'", "found \"x\""}},
      {"offsets_len",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
       8,
       {"field 'data_offsets'", "found [0]"}},
      {"dtype_type", R"({"w":{"dtype":5,"shape":[2],"data_offsets":[0,8]}})", 8, {"field 'dtype'", "found 5"}},
      {"missing", R"({"w":{"dtype":"F32","shape":[2]}})", 8, {"field 'data_offsets' is missing"}},
      {"entry_type", R"({"w":[1,2]})", 8, {"tensor \"w\"", "expected an object"}},
      {"metadata", R"({"__metadata__":{"k":3}})", 0, {"field '__metadata__.k'", "expected a string", "found 3"}},
      {"top", R"([1,2])", 0, {"must be a JSON object"}},
  };
  for (const Bad& b : cases) {
    INFO(b.name);
    const std::string path = write_st(b.name, b.header, b.data);
    try {
      load_safetensors(path);
      FAIL("loaded");
    } catch (const InvalidArgument& e) {
      const std::string msg = e.what();
      INFO(msg);
      REQUIRE(msg.find(path) != std::string::npos);
      for (const char* want : b.says) REQUIRE(msg.find(want) != std::string::npos);
    }
    fs::remove(path);
  }
  // Adjacent ranges and an empty tensor anywhere are fine.
  const std::string ok = write_st(
      "ok",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},"b":{"dtype":"U16","shape":[2],"data_offsets":[8,12]}})",
      12);
  SafetensorsFile f = load_safetensors(ok);
  REQUIRE(f.tensors.size() == 3);
  REQUIRE(f.tensors.at("a").to_vector<float>() == std::vector<float>{0, 0});
  REQUIRE(f.tensors.at("e").numel() == 0);
  fs::remove(ok);
}

TEST_CASE("save_checkpoint refuses a non-finite tensor and leaves the previous checkpoint as latest",
          "[train][robust]") {
  test::TinyRun f("nonfinite");
  const std::string run = f.run_dir("run");
  CheckpointData ck;
  ck.model["w"] = Tensor::from_vector(std::vector<float>{1.0f, 2.0f, 3.0f}, {3});
  ck.state = {{"step", 1}};
  const std::string first = save_checkpoint(run, 1, ck, 3);
  REQUIRE(latest_checkpoint(run) == first);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    INFO(bad);
    CheckpointData next = ck;
    next.model["w"] = Tensor::from_vector(std::vector<float>{1.0f, bad, 3.0f}, {3});
    next.state = {{"step", 2}};
    REQUIRE_THROWS_WITH(save_checkpoint(run, 2, next, 3),
                        Contains("step 2: model tensor \"w\" holds") && Contains("at flat index 1 (of 3)") &&
                            Contains("step_00000002 was not written") && Contains("last good checkpoint is " + first));
    REQUIRE(latest_checkpoint(run) == first);
    REQUIRE_FALSE(fs::exists(fs::path(run) / "checkpoints/step_00000002"));
  }
  // The optimizer state is checked too.
  CheckpointData opt = ck;
  opt.optimizer["m"] = Tensor::from_vector(std::vector<float>{std::numeric_limits<float>::infinity()}, {1});
  REQUIRE_THROWS_WITH(save_checkpoint(run, 3, opt, 3), Contains("optimizer state tensor \"m\""));
  REQUIRE(latest_checkpoint(run) == first);
  REQUIRE(load_checkpoint(first, false).model.at("w").to_vector<float>() == std::vector<float>{1, 2, 3});
}

TEST_CASE("metrics: a record that cannot be written (disk full) fails naming the file", "[train][robust]") {
  if (!fs::exists("/dev/full")) return;  // Linux only
  MetricsLog log("/dev/full", true);
  REQUIRE_THROWS_WITH(
      log.write({{"type", "train"}, {"step", 7}, {"loss", 1.5}}),
      Contains("[metrics] /dev/full") && Contains("\"train\" record of step 7") && Contains("No space left on device"));
  MetricsLog off("/dev/full", false);  // ranks other than 0 write nothing
  REQUIRE_NOTHROW(off.write({{"type", "train"}, {"step", 7}}));
}

TEST_CASE("config.json of a model or an HF directory: bad JSON and wrong types name the file and key",
          "[train][robust]") {
  test::TinyRun f("configs");
  const fs::path hf = f.root / "hf", model = f.root / "model";
  export_hf(std::string(TTTLM_SOURCE_DIR) + "/tests/golden/ttt-linear-mamba", hf.string());
  const std::string hf_cfg = (hf / "config.json").string(), good = test::slurp(hf_cfg);
  const nlohmann::json j = nlohmann::json::parse(good);
  struct Edit {
    const char* key;
    nlohmann::json value;
    const char* says;
  };
  for (const Edit& e : {Edit{"ttt_layer_type", 5, "key \"ttt_layer_type\": expected a string; found 5"},
                        Edit{"hidden_size", "64", "key \"hidden_size\": expected an integer; found \"64\""},
                        Edit{"use_gate", 1, "key \"use_gate\": expected true or false; found 1"},
                        Edit{"rope_theta", "big", "key \"rope_theta\": expected a number; found \"big\""},
                        Edit{"mini_batch_size", 2.5, "key \"mini_batch_size\": expected an integer; found 2.5"}}) {
    nlohmann::json bad = j;
    bad[e.key] = e.value;
    test::spit(hf_cfg, bad.dump());
    INFO(e.key);
    REQUIRE_THROWS_WITH(import_hf(hf.string(), (f.root / "imported").string()), Contains(hf_cfg) && Contains(e.says));
  }
  test::spit(hf_cfg, "{\"vocab_size\": ");
  REQUIRE_THROWS_WITH(import_hf(hf.string(), (f.root / "imported").string()),
                      Contains(hf_cfg) && Contains("invalid JSON"));
  test::spit(hf_cfg, "{\"vocab_size\": 1e999}");  // nlohmann throws out_of_range here, not parse_error
  REQUIRE_THROWS_WITH(import_hf(hf.string(), (f.root / "imported").string()),
                      Contains(hf_cfg) && Contains("invalid JSON"));
  test::spit(hf_cfg, good);
  // A config.json that cannot be written is an error, not a directory holding weights alone.
  const fs::path blocked = f.root / "blocked";
  fs::create_directories(blocked / "config.json");
  REQUIRE_THROWS_WITH(export_hf(std::string(TTTLM_SOURCE_DIR) + "/tests/golden/ttt-linear-mamba", blocked.string()),
                      Contains((blocked / "config.json").string()));
  import_hf(hf.string(), model.string());
  REQUIRE(load_model(model.string()).config.hidden_size == j["hidden_size"].get<int64_t>());
  test::spit((model / "config.json").string(), "{\"model\": [");
  REQUIRE_THROWS_WITH(load_model(model.string()),
                      Contains((model / "config.json").string()) && Contains("invalid JSON"));
  test::spit((model / "config.json").string(), "{\"model\": {\"rope_theta\": 1e999}}");
  REQUIRE_THROWS_WITH(load_model(model.string()),
                      Contains((model / "config.json").string()) && Contains("invalid JSON"));
}

TEST_CASE("a run directory's config.json with a number beyond double's range is refused naming the file",
          "[train][robust]") {
  test::TinyRun f("run_dir_overflow");
  const fs::path run = f.root / "run";
  fs::create_directories(run);
  test::spit((run / "config.json").string(), "{\"optimizer\": {\"lr\": -1e999}}");
  REQUIRE_THROWS_AS(load_run_dir_config(run.string(), {}), InvalidArgument);
  REQUIRE_THROWS_WITH(load_run_dir_config(run.string(), {}),
                      Contains((run / "config.json").string()) && Contains("invalid JSON"));
}

TEST_CASE("run config: values that would diverge, divide by zero or hang are refused naming the key",
          "[train][robust]") {
  test::TinyRun f("ranges");
  REQUIRE_NOTHROW(load_run_config(f.config));
  struct Bad {
    const char* set;
    const char* says;
  };
  for (const Bad& b :
       {Bad{"data.prefetch=-1", "data.prefetch: expected an integer in [0, 64]; found -1"},
        Bad{"data.bos_id=-2", "data.bos_id: expected an integer >= 0; found -2"},
        Bad{"train.eval_every=-1", "train.eval_every: expected an integer >= 0"},
        Bad{"train.eval_batches=0", "train.eval_batches: expected an integer >= 1; found 0"},
        Bad{"train.checkpoint_every=-3", "train.checkpoint_every: expected an integer >= 0"},
        Bad{"train.threads=-1", "train.threads: expected an integer in [0, 4096]"},
        Bad{"optimizer.lr=-0.1", "optimizer.lr: expected a finite number >= 0; found -0.1"},
        Bad{"optimizer.end_lr=-1", "optimizer.end_lr: expected a finite number >= 0; found -1"},
        Bad{"optimizer.eps=0", "optimizer.eps: expected a finite number > 0; found 0"},
        Bad{"optimizer.weight_decay=-0.5", "optimizer.weight_decay: expected a finite number >= 0"},
        Bad{"optimizer.beta1=1", "optimizer.beta1: expected a number in [0, 1); found 1"},
        Bad{"optimizer.beta2=-0.1", "optimizer.beta2: expected a number in [0, 1); found -0.1"},
        Bad{"parallel.bucket_mb=0", "parallel.bucket_mb: expected a finite number > 0; found 0"},
        Bad{"parallel.timeout_s=0", "parallel.timeout_s: expected an integer >= 1 (seconds); found 0"},
        Bad{"log.every=-5", "log.every: expected an integer >= 0"},
        Bad{"log.peak_gflops=-1", "log.peak_gflops: expected a finite number >= 0; found -1"},
        // Integers are never narrowed: 2^32 + 1 threads used to become 1.
        Bad{"train.threads=4294967297", "train.threads: expected an integer in [0, 4096]"},
        Bad{"model.num_layers=18446744073709551615", "model.num_layers: expected an integer in int64's range"},
        Bad{"model.hidden_size=1e300", "model.hidden_size: expected an integer in int64's range, got number 1e+300"},
        Bad{"data.prefetch=4294967298", "data.prefetch: expected an integer in [0, 64]; found 4294967298"},
        Bad{"model.rms_norm_eps=-1e-5", "model.rms_norm_eps: expected a finite number > 0, got -1e-05"},
        Bad{"model.initializer_range=-0.02", "model.initializer_range: expected a finite number > 0"},
        Bad{"model.rope_theta=0", "model.rope_theta: expected a finite number > 0, got 0"},
        Bad{"model.ttt_base_lr=-1", "model.ttt_base_lr: expected a finite number > 0"}}) {
    INFO(b.set);
    REQUIRE_THROWS_WITH(load_run_config(f.config, {b.set}), Contains(f.config) && Contains(b.says));
  }
}

TEST_CASE("a directory or a missing file where a file is expected is named, not a stream failure", "[train][robust]") {
  test::TinyRun f("dirs");
  const fs::path dir = f.root / "a_directory";
  fs::create_directories(dir);
  // Each of these used to escape as "basic_filebuf::underflow error reading the file: Is a directory".
  REQUIRE_THROWS_WITH(load_run_config(dir.string()),
                      Contains("[config] " + dir.string() + ": expected a JSON file; found a directory"));
  REQUIRE_THROWS_WITH(data::Tokenizer::load(dir.string()),
                      Contains("[tokenizer] " + dir.string() + ": is a directory"));
  const fs::path model = f.root / "model";
  fs::create_directories(model);
  fs::copy(std::string(TTTLM_SOURCE_DIR) + "/tests/golden/ttt-linear-mamba/model.safetensors", model);
  fs::create_directories(model / "config.json");
  REQUIRE_THROWS_WITH(load_model(model.string()), Contains((model / "config.json").string() + ": is a directory"));
  REQUIRE_THROWS_WITH(load_run_config((f.root / "nope.json").string()), Contains("nope.json: no such file"));
}
