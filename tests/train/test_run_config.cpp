#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.h"
#include "train/run_config.h"
#include "train/run_dir.h"
#include "train/schedule.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "tttlm_test_config";
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}
}  // namespace

TEST_CASE("every committed config loads and validates", "[train][config]") {
  int n = 0;
  for (auto dir : {"configs/models", "configs/paper/pile-2k", "configs/paper/pile-8k", "configs/paper/books-2k",
                   "configs/paper/books-32k", "configs/small"}) {
    fs::path d = fs::path(TTTLM_SOURCE_DIR) / dir;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d)) {
      INFO(e.path().string());
      RunConfig c = load_run_config(e.path().string());
      REQUIRE(c.model.hidden_size > 0);
      ++n;
    }
  }
  REQUIRE(n >= 30 + 4 * 24);
}

TEST_CASE("every paper config trains into its own run directory naming dataset, context, kind and size",
          "[train][config]") {
  std::map<std::string, std::string> owner;  // run_dir -> the config that resolves to it
  const fs::path paper = fs::path(TTTLM_SOURCE_DIR) / "configs/paper";
  for (const auto& group : fs::directory_iterator(paper)) {
    if (!group.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(group.path())) {
      const std::string file = e.path().string(), stem = e.path().stem().string();
      const std::string dataset_ctx = group.path().filename().string();  // e.g. pile-2k
      INFO(file);
      const std::string run_dir = load_run_config(file).train.run_dir;
      INFO("run_dir " << run_dir);
      REQUIRE(run_dir.find(dataset_ctx) != std::string::npos);  // dataset and context
      REQUIRE(run_dir.find(stem) != std::string::npos);         // kind and size
      auto [it, fresh] = owner.emplace(run_dir, file);
      INFO("also the run directory of " << it->second);
      REQUIRE(fresh);
    }
  }
  REQUIRE(owner.size() == 4 * 24);
}

TEST_CASE("the input config keeps what was given; the resolved one fills in every default", "[train][config]") {
  std::string f = write_tmp("input.json", R"({"train": {"total_steps": 40}, "optimizer": {"warmup_steps": 4}})");
  RunConfig c = load_run_config(f, {"optimizer.lr=0.5"});
  REQUIRE(c.optimizer.decay_steps == 40);
  REQUIRE(c.resolved["optimizer"]["decay_steps"] == 40);
  REQUIRE_FALSE(c.input["optimizer"].contains("decay_steps"));
  REQUIRE(c.input["optimizer"]["lr"] == 0.5);
  REQUIRE(c.input["train"]["total_steps"] == 40);
  // The hash is FNV-1a 64 of the canonical dump: 16 hex digits, equal for equal configs, else different.
  REQUIRE(c.hash().size() == 16);
  REQUIRE(c.hash() == load_run_config(f, {"optimizer.lr=0.5"}).hash());
  REQUIRE(c.hash() != load_run_config(f, {"optimizer.lr=0.25"}).hash());
}

TEST_CASE("includes merge and --set overrides apply last", "[train][config]") {
  std::string base = write_tmp("base.json", R"({"model": {"kind": "transformer", "hidden_size": 64, "num_heads": 4,
    "num_layers": 2, "intermediate_size": 96, "vocab_size": 100, "max_seq_len": 64}, "train": {"total_steps": 7}})");
  std::string top = write_tmp("top.json", R"({"include": "base.json", "train": {"seed": 3}})");
  RunConfig c = load_run_config(top, {"train.total_steps=11", "optimizer.lr=0.5", "data.format=bin"});
  REQUIRE(c.model.hidden_size == 64);
  REQUIRE(c.train.seed == 3);
  REQUIRE(c.train.total_steps == 11);
  REQUIRE(c.optimizer.lr == 0.5);
  REQUIRE(c.data.format == "bin");
  REQUIRE(c.resolved["optimizer"]["decay_steps"] == 11);
}

TEST_CASE("run config: --set refuses bytes that are not UTF-8, in a value or a key, naming the override",
          "[train][config][robust]") {
  std::string f = write_tmp("utf8.json", "{}");
  // Before the check, the value became a JSON string that no dump could write: the first error message
  // (or config.json, or the hash) threw nlohmann's type_error 316 instead of a tttlm error.
  for (const std::string& set : {std::string("optimizer.lr=0.\xb0"
                                             "01"),
                                 std::string("data.path=\xff\xfe"), std::string("train.\xc3=1")}) {
    CAPTURE(set);
    REQUIRE_THROWS_AS(load_run_config(f, {set}), InvalidArgument);
    REQUIRE_THROWS_WITH(load_run_config(f, {set}), Catch::Contains("utf8.json") && Catch::Contains("--set") &&
                                                       Catch::Contains("expected UTF-8 text"));
  }
  RunConfig c = load_run_config(f, {"data.path=d\xc3\xa9j\xc3\xa0"});  // valid UTF-8 passes
  REQUIRE(c.data.path == "d\xc3\xa9j\xc3\xa0");
  REQUIRE(c.hash().size() == 16);
}

TEST_CASE("a number beyond double's range is refused naming the config file, also in an include",
          "[train][config][robust]") {
  // nlohmann's parser throws out_of_range (not parse_error) for 1e999; it used to escape the loader raw.
  std::string f = write_tmp("overflow.json", R"({"optimizer": {"lr": 1e999}})");
  REQUIRE_THROWS_AS(load_run_config(f), InvalidArgument);
  REQUIRE_THROWS_WITH(load_run_config(f),
                      Catch::Contains("overflow.json") && Catch::Contains("invalid JSON") && Catch::Contains("1e999"));
  std::string top = write_tmp("overflow_top.json", R"({"include": "overflow.json"})");
  REQUIRE_THROWS_WITH(load_run_config(top), Catch::Contains("overflow.json") && Catch::Contains("invalid JSON"));
}

TEST_CASE("a config path or an include that names a directory is refused naming it", "[train][config][robust]") {
  // Reading a directory through std::ifstream threw std::ios_base::failure out of the JSON parser.
  std::string f = write_tmp("include_dir.json", R"({"include": ""})");
  REQUIRE_THROWS_AS(load_run_config(f), InvalidArgument);
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("found a directory") && Catch::Contains("include"));
  const std::string dir = fs::path(f).parent_path().string();
  REQUIRE_THROWS_WITH(load_run_config(dir), Catch::Contains(dir) && Catch::Contains("expected a JSON file"));
}

TEST_CASE("an include whose file name is longer than the OS allows is refused naming it", "[train][config][robust]") {
  // std::filesystem::is_directory threw filesystem_error ("File name too long") out of the loader (found by
  // the run-config harness's long campaign).
  const std::string name(300, 'a');
  std::string f = write_tmp("include_long.json", "{\"include\": \"" + name + "\"}");
  REQUIRE_THROWS_AS(load_run_config(f), InvalidArgument);
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains(name) && Catch::Contains("too long"));
  const std::string direct = fs::path(f).parent_path().string() + "/" + name + ".json";
  REQUIRE_THROWS_AS(load_run_config(direct), InvalidArgument);
  REQUIRE_THROWS_AS(resolve_run_config(direct, {}), InvalidArgument);
}

TEST_CASE("integers beyond int64 are refused naming the key, never cast or wrapped", "[train][config][robust]") {
  // 6.9e20 as a float was cast to int64 (undefined behaviour, found by the run-config harness under UBSan);
  // 2^64 - 1 as an unsigned JSON number wrapped to -1.
  std::string f = write_tmp("int_range.json", "{}");
  for (const std::string& set : {std::string("train.total_steps=6.92234e20"), std::string("train.total_steps=-1e19"),
                                 std::string("train.total_steps=18446744073709551615")}) {
    CAPTURE(set);
    REQUIRE_THROWS_AS(load_run_config(f, {set}), InvalidArgument);
    REQUIRE_THROWS_WITH(load_run_config(f, {set}), Catch::Contains("int_range.json") &&
                                                       Catch::Contains("train.total_steps") &&
                                                       Catch::Contains("int64's range"));
  }
  REQUIRE(load_run_config(f, {"train.total_steps=1e3"}).train.total_steps == 1000);  // a whole float is fine
}

TEST_CASE("config errors name the file, the key, the expected and found values", "[train][config]") {
  std::string f = write_tmp("bad1.json", R"({"model": {"kind": "transformer", "hiden_size": 64}})");
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("bad1.json") && Catch::Contains("model.hiden_size") &&
                                              Catch::Contains("did you mean model.hidden_size"));
  f = write_tmp("bad2.json", R"({"train": {"total_steps": "ten"}})");
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("train.total_steps") &&
                                              Catch::Contains("expected an integer") && Catch::Contains("\"ten\""));
  f = write_tmp("bad3.json", R"({"model": {"kind": "ttt-linear-mamba", "hidden_size": 100, "num_heads": 12}})");
  REQUIRE_THROWS_WITH(load_run_config(f),
                      Catch::Contains("model.num_heads") && Catch::Contains("100") && Catch::Contains("12"));
  f = write_tmp("bad4.json", R"({"model": {"kind": "ttt-mlp-mamba", "mini_batch_size": 12, "max_seq_len": 2048}})");
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("model.mini_batch_size") && Catch::Contains("2048"));
  f = write_tmp("bad5.json", R"({"model": {"kind": "ttt-linear"}})");
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("model.kind") && Catch::Contains("ttt-linear-mamba"));
  f = write_tmp("bad6.json", R"({"trian": {}})");
  REQUIRE_THROWS_WITH(load_run_config(f),
                      Catch::Contains("unknown key trian") && Catch::Contains("did you mean train"));
  f = write_tmp("bad7.json", R"({"train": {"global_batch_size": 6, "micro_batch_size": 4}})");
  REQUIRE_THROWS_WITH(load_run_config(f), Catch::Contains("train.micro_batch_size") && Catch::Contains("6"));
}

TEST_CASE("lr schedule is optax's warmup_cosine_decay_schedule", "[train][schedule]") {
  OptimizerConfig o;
  o.lr = 3e-3;
  o.end_lr = 1e-5;
  o.warmup_steps = 480;
  o.decay_steps = 4800;
  REQUIRE(lr_at(o, 0) == 0.0);  // the first update has lr 0 (docs/spec/ttt.md §9 item 10)
  REQUIRE(lr_at(o, 240) == Approx(1.5e-3));
  REQUIRE(lr_at(o, 480) == Approx(3e-3));
  REQUIRE(lr_at(o, 480 + 2160) == Approx(1e-5 + (3e-3 - 1e-5) * 0.5));
  REQUIRE(lr_at(o, 4800) == Approx(1e-5));
  REQUIRE(lr_at(o, 9000) == Approx(1e-5));
}

TEST_CASE("TTT-MLP inner-lr warmup multiplier is bf16-quantised", "[train][schedule]") {
  layers::ModelConfig m;
  m.kind = layers::ModelKind::ttt_mlp_mamba;
  m.ttt_base_lr = 0.1;
  m.ttt_base_lr_init = 0.01;
  m.ttt_base_lr_warmup = 480;
  REQUIRE(ttt_lr_mult_at(m, 1) == 0.10009765625);  // docs/spec/ttt.md §4
  REQUIRE(ttt_lr_mult_at(m, 481) == 1.0);
  REQUIRE(ttt_lr_mult_at(m, 480) == 1.0);  // bf16 rounding already gives 1 at s = warmup
  m.ttt_base_lr_warmup = -1;
  REQUIRE(ttt_lr_mult_at(m, 1) == 1.0);
}
