#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "layers/causal_lm.h"
#include "layers/model_info.h"
#include "train/run_config.h"

using namespace tttlm;
using namespace tttlm::layers;

namespace {
ModelConfig load(const std::string& kind, const std::string& size) {
  return train::load_run_config(std::string(TTTLM_SOURCE_DIR) + "/configs/models/" + kind + "-" + size + ".json").model;
}
}  // namespace

// The expected numbers are the spec's tables (docs/spec/ttt.md §6, verified there with the official JAX and PyTorch
// code; docs/spec/mamba.md §1 for V = 32000), not computed here.
TEST_CASE("parameter counts equal the spec's tables for every kind and size", "[layers][info]") {
  struct Row {
    const char* kind;
    int64_t c125, c350, c760, c1b;
  };
  const Row rows[] = {
      {"ttt-linear-mamba", 110424144, 337684224, 733608192, 1285639296},
      {"ttt-mlp-mamba", 114589776, 348792576, 758528256, 1307856000},
      {"ttt-linear-transformer", 110276688, 337291008, 733018368, 1284852864},
      {"ttt-mlp-transformer", 114442320, 348399360, 757938432, 1307069568},
      {"transformer", 109529856, 335201280, 728704512, 1279887360},
      {"mamba", 115096320, 352797696, 765126144, 1334740992},
  };
  for (const Row& r : rows) {
    INFO(r.kind);
    REQUIRE(CausalLM(load(r.kind, "125m")).num_parameters() == r.c125);
    REQUIRE(CausalLM(load(r.kind, "350m")).num_parameters() == r.c350);
    REQUIRE(CausalLM(load(r.kind, "760m")).num_parameters() == r.c760);
    REQUIRE(CausalLM(load(r.kind, "1.3b")).num_parameters() == r.c1b);
  }
}

TEST_CASE("per-block counts match the spec (125m)", "[layers][info]") {
  // docs/spec/ttt.md §6: 7,153,948 / 7,501,084 / 7,141,660 / 7,488,796 / 7,079,424; docs/spec/mamba.md §1: 3,771,648.
  const std::pair<const char*, int64_t> rows[] = {
      {"ttt-linear-mamba", 7153948},    {"ttt-mlp-mamba", 7501084}, {"ttt-linear-transformer", 7141660},
      {"ttt-mlp-transformer", 7488796}, {"transformer", 7079424},   {"mamba", 3771648}};
  for (auto [kind, per_block] : rows) {
    ModelConfig c = load(kind, "125m");
    int64_t total = CausalLM(c).num_parameters();
    int64_t embed_and_norm = c.padded_vocab() * c.hidden_size + c.hidden_size;
    INFO(kind);
    REQUIRE((total - embed_and_norm) % c.num_layers == 0);
    REQUIRE((total - embed_and_norm) / c.num_layers == per_block);
  }
}

TEST_CASE("tiny configs have 1-5M parameters", "[layers][info]") {
  for (const auto& kind : model_kind_names()) {
    int64_t n = CausalLM(load(kind, "tiny")).num_parameters();
    INFO(kind << ": " << n);
    REQUIRE(n >= 1000000);
    REQUIRE(n <= 5000000);
  }
}

TEST_CASE("FLOPs per token: 6N plus attention and the TTT inner loop", "[layers][info]") {
  ModelConfig t = load("transformer", "125m");
  ModelInfo ti = model_info(t, 1, 2048);
  // matmul weights: 12 blocks × (4·768² + 3·768·2048) + the tied head 32000·768
  double weights = 12.0 * (4 * 768.0 * 768 + 3 * 768.0 * 2048) + 32000.0 * 768;
  REQUIRE(ti.forward_flops_per_token == Approx(2 * weights + 2.0 * 2048 * 768 * 12));
  REQUIRE(ti.flops_per_token == Approx(3 * ti.forward_flops_per_token));
  ModelConfig l = load("ttt-linear-mamba", "125m");
  ModelInfo li = model_info(l, 1, 2048);
  REQUIRE(li.inner_loop_flops_per_token == Approx(12.0 * 12 * (6 * 64.0 * 64 + 6 * 16.0 * 64)));
  REQUIRE(li.parameters == 110424144);
}
