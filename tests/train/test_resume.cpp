// Training end to end on a tiny model and synthetic tokens: a stopped-and-resumed run equals the
// uninterrupted one bit for bit (weights, optimizer moments, losses); a resume that changes the model is
// refused; a non-finite loss stops the run naming the step and keeps the last checkpoint.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "data/npy.h"
#include "train/checkpoint.h"
#include "train/communicator.h"
#include "train/trainer.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  fs::path root;
  std::string config;
  explicit Fixture(const std::string& name) {
    root = fs::temp_directory_path() / ("tttlm_resume_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "data");
    // Synthetic "text": a noisy repeating pattern over 61 ids, with BOS (1) now and then.
    std::vector<uint16_t> train(6000), val(1200);
    uint32_t s = 12345;
    for (auto* v : {&train, &val})
      for (size_t i = 0; i < v->size(); ++i) {
        s = s * 1103515245u + 12345u;
        (*v)[i] = static_cast<uint16_t>(i % 97 == 0 ? 1 : (i * 7 + (s >> 28)) % 61);
      }
    data::write_npy((root / "data/train.npy").string(), train.data(), Dtype::u16, {static_cast<int64_t>(train.size())});
    data::write_npy((root / "data/validation.npy").string(), val.data(), Dtype::u16, {static_cast<int64_t>(val.size())});
    config = (root / "run.json").string();
    std::ofstream(config) << R"({"model": {"kind": "ttt-linear-mamba", "vocab_size": 61, "hidden_size": 32, "num_heads": 4,
      "num_layers": 2, "intermediate_size": 48, "max_seq_len": 32, "mini_batch_size": 8},
      "data": {"path": ")" << (root / "data").string() << R"(", "seq_len": 32},
      "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 6, "eval_every": 3, "eval_batches": 2,
                "checkpoint_every": 3, "keep_last": 5},
      "optimizer": {"lr": 0.01, "warmup_steps": 2},
      "log": {"progress": false}})";
  }
  ~Fixture() { fs::remove_all(root); }
  TrainResult train(const std::string& run, std::vector<std::string> sets, bool resume = false, int64_t stop_after = 0) {
    TrainOptions o;
    o.stop_after_step = stop_after;
    o.config_path = resume ? (root / run).string() : config;
    sets.push_back("train.run_dir=" + (root / run).string());
    o.overrides = sets;
    o.resume = resume;
    o.quiet = true;
    SingleProcess comm;
    return run_training(o, comm);
  }
  std::vector<double> losses(const std::string& run) {
    std::vector<double> out;
    std::ifstream f(root / run / "metrics.jsonl");
    for (std::string line; std::getline(f, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["type"] == "train") out.push_back(j["loss"].get<double>());
    }
    return out;
  }
};

void require_same_tensors(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(t.to_vector<float>() == b.at(name).to_vector<float>());
  }
}

}  // namespace

TEST_CASE("train N steps == train k steps, stop, resume, train N-k steps (bit for bit)", "[train][resume]") {
  Fixture f("exact");
  f.train("full", {});
  f.train("split", {}, /*resume=*/false, /*stop_after=*/4);  // "killed" after step 4; last checkpoint at step 3
  f.train("split", {}, /*resume=*/true);
  CheckpointData a = load_checkpoint(latest_checkpoint((f.root / "full").string()));
  CheckpointData b = load_checkpoint(latest_checkpoint((f.root / "split").string()));
  REQUIRE(a.state["step"] == 6);
  REQUIRE(b.state["step"] == 6);
  require_same_tensors(a.model, b.model);
  require_same_tensors(a.optimizer, b.optimizer);
  REQUIRE(a.state["sampler"] == b.state["sampler"]);
  // The killed run had logged step 4; the resume from step 3 dropped that record and logged it again.
  REQUIRE(f.losses("full") == f.losses("split"));
  REQUIRE(f.losses("full").size() == 6);
  REQUIRE(f.losses("full").back() < f.losses("full").front());
}

TEST_CASE("a resume whose config changes the model is refused", "[train][resume]") {
  Fixture f("changed");
  f.train("run", {}, false, 3);
  REQUIRE_THROWS_WITH(f.train("run", {"model.hidden_size=64", "model.num_heads=4"}, true),
                      Catch::Contains("changes the model") && Catch::Contains("model.hidden_size"));
}

TEST_CASE("a non-finite loss stops the run, names the step and keeps the last checkpoint", "[train][resume]") {
  Fixture f("nan");
  // An absurd learning rate overflows the weights after the first real update (step 1 has lr 0).
  REQUIRE_THROWS_WITH(f.train("run", {"optimizer.lr=1e38", "optimizer.warmup_steps=0", "train.checkpoint_every=1",
                                      "optimizer.clip_grad_norm=0"}),
                      Catch::Contains("is not finite") && Catch::Contains("step ") &&
                          Catch::Contains("last good checkpoint is"));
  std::string last = latest_checkpoint((f.root / "run").string());
  REQUIRE_FALSE(last.empty());
  CheckpointData c = load_checkpoint(last);  // intact and loadable
  REQUIRE(c.state["step"].get<int64_t>() >= 1);
}
