// The memory check before a model is materialised: a run whose estimate (layers/model_info.h) exceeds the
// available memory is refused with the estimate, the available memory and the knobs, before the run
// directory is touched; train.skip_memory_check starts it anyway; absurd model sizes are refused naming
// the key. TTTLM_MEMORY_LIMIT_BYTES stands in for the machine's memory so that the tests do not depend on it.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "layers/model_info.h"
#include "train/memory_check.h"
#include "train/model_io.h"
#include "train/run_config.h"
#include "tiny_run.h"

using namespace tttlm;
using namespace tttlm::train;

namespace {

struct MemoryLimit {
  explicit MemoryLimit(double bytes) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", bytes);  // exact: the boundary cases compare equal values
    ::setenv("TTTLM_MEMORY_LIMIT_BYTES", buf, 1);
  }
  ~MemoryLimit() { ::unsetenv("TTTLM_MEMORY_LIMIT_BYTES"); }
};

double training_estimate(const RunConfig& c) {
  layers::ModelInfo i = layers::model_info(c.model, c.train.micro_batch_size, c.data.seq_len);
  return i.weights_bytes + i.gradient_bytes + i.optimizer_bytes + i.activation_bytes;
}

}  // namespace

TEST_CASE("the limit from TTTLM_MEMORY_LIMIT_BYTES is what available_memory reports", "[train][memory]") {
  MemoryLimit m(123456789);
  auto a = available_memory(cpu_device());
  REQUIRE(a.has_value());
  REQUIRE(a->bytes == 123456789.0);
  REQUIRE(a->source == "TTTLM_MEMORY_LIMIT_BYTES");
}

TEST_CASE("the machine's available memory is read on the CPU", "[train][memory]") {
  auto a = available_memory(cpu_device());
  REQUIRE(a.has_value());
  REQUIRE(a->bytes > 0);
}

TEST_CASE("training that does not fit is refused before the run directory is touched", "[train][memory]") {
  test::TinyRun f("memory");
  const RunConfig c = load_run_config(f.config);
  const double need = training_estimate(c);
  REQUIRE(need > 0);
  {
    MemoryLimit m(need - 1);
    REQUIRE_THROWS_WITH(f.train("run"), Catch::Contains("needs an estimated") &&
                                            Catch::Contains("TTTLM_MEMORY_LIMIT_BYTES") &&
                                            Catch::Contains("train.micro_batch_size 2 x data.seq_len 32") &&
                                            Catch::Contains("model.recompute_blocks=true") &&
                                            Catch::Contains("train.skip_memory_check=true"));
    REQUIRE_FALSE(std::filesystem::exists(f.run_dir("run")));
    // The override starts it anyway.
    TrainResult r = f.train("skipped", {"train.skip_memory_check=true"});
    REQUIRE(r.steps_done == 6);
  }
  MemoryLimit m(need);  // exactly the estimate fits
  REQUIRE(f.train("fits").steps_done == 6);
}

TEST_CASE("the training estimate counts weights, gradients, AdamW moments and activations", "[train][memory]") {
  test::TinyRun f("memory_sum");
  const RunConfig c = load_run_config(f.config);
  layers::ModelInfo i = layers::model_info(c.model, 2, 32);
  REQUIRE(i.weights_bytes == 4.0 * i.parameters);
  const double need = training_estimate(c);
  {
    MemoryLimit m(need - 1);
    REQUIRE_THROWS(check_training_memory(c, cpu_device(), 1));
  }
  {  // a larger micro-batch needs more activations
    RunConfig big = load_run_config(f.config, {"train.micro_batch_size=4"});
    REQUIRE(training_estimate(big) > need);
    MemoryLimit m(need);
    REQUIRE_NOTHROW(check_training_memory(c, cpu_device(), 1));
    REQUIRE_THROWS(check_training_memory(big, cpu_device(), 1));
  }
}

TEST_CASE("init and load refuse a model whose weights do not fit", "[train][memory]") {
  test::TinyRun f("memory_init");
  const RunConfig c = load_run_config(f.config);
  const double weights = layers::model_info(c.model, 1, 1).weights_bytes;
  const std::string dir = f.run_dir("model");
  {
    MemoryLimit m(weights - 1);
    REQUIRE_THROWS_WITH(init_model_dir(c.model, 0, dir),
                        Catch::Contains("[init]") && Catch::Contains("the weights of"));
    REQUIRE_FALSE(std::filesystem::exists(dir + "/model.safetensors"));
  }
  init_model_dir(c.model, 0, dir);
  {
    MemoryLimit m(weights - 1);
    REQUIRE_THROWS_WITH(load_model(dir, cpu_device()), Catch::Contains("[load]") && Catch::Contains("config.json"));
  }
  MemoryLimit m(weights);
  REQUIRE(load_model(dir, cpu_device()).model != nullptr);
}

TEST_CASE("absurd model sizes are refused naming the key, before anything is declared", "[train][memory]") {
  test::TinyRun f("memory_absurd");
  REQUIRE_THROWS_WITH(
      load_run_config(f.config, {"model.hidden_size=1000000000"}),
      Catch::Contains("model.hidden_size") && Catch::Contains("at most 1048576") && Catch::Contains("1000000000"));
  REQUIRE_THROWS_WITH(load_run_config(f.config, {"model.num_layers=100000000"}), Catch::Contains("model.num_layers") &&
                                                                                     Catch::Contains("at most 65536") &&
                                                                                     Catch::Contains("100000000"));
}
