// A run survives what a user may do to it: a refused resume leaves the run directory as it was; a corrupt
// or hand-edited state.json is refused naming the file and key; a diverged model is never checkpointed; a
// shard truncated during a run stops it with an error naming the file (not SIGBUS) and keeps the
// checkpoints already written.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "train/checkpoint.h"
#include "tiny_run.h"

using namespace tttlm;
using namespace tttlm::train;
using Catch::Contains;
using test::TinyRun;
namespace fs = std::filesystem;

namespace {

std::string state_path(const std::string& run_dir) { return latest_checkpoint(run_dir) + "/state.json"; }

// A single process that truncates a file in place (same inode, like `cp new.npy train.npy` or `truncate`)
// when the trainer sums the loss of step `at_step`.
class TruncatingComm final : public Communicator {
 public:
  TruncatingComm(std::string path, int at_step) : path_(std::move(path)), at_step_(at_step) {}
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  void all_reduce_sum(const Tensor&) override {
    if (++calls_ == at_step_) fs::resize_file(path_, 100);
  }
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  void check_same(const std::string&, const std::string&) override {}
  void check_all(const std::string&, const std::string& error) override {
    if (!error.empty()) throw CollectiveError(error);
  }
  std::string name() const override { return "single"; }

 private:
  std::string path_;
  int at_step_, calls_ = 0;
};

}  // namespace

TEST_CASE("a refused resume leaves config.json byte for byte, and a plain resume still works", "[train][robust]") {
  TinyRun f("refused");
  f.train("run", {}, false, 3);
  const std::string cfg = f.run_dir("run") + "/config.json";
  const std::string before = test::slurp(cfg);
  REQUIRE(before.find("\"hidden_size\": 32") != std::string::npos);
  struct Change {
    std::vector<std::string> sets;
    const char* says;
  };
  for (const Change& c :
       {Change{{"model.hidden_size=64"}, "model.hidden_size"}, Change{{"model.kind=\"ttt-mlp-mamba\""}, "model.kind"},
        Change{{"train.global_batch_size=8"}, "global_batch 4; this run uses 8"},
        Change{{"data.seq_len=16", "model.max_seq_len=32"}, "samples"}}) {
    INFO(c.sets.front());
    REQUIRE_THROWS_WITH(f.train("run", c.sets, true), Contains(c.says));
    REQUIRE(test::slurp(cfg) == before);
  }
  TrainResult r = f.train("run", {}, true);
  REQUIRE(r.steps_done == 3);
  REQUIRE(load_checkpoint(latest_checkpoint(f.run_dir("run"))).state["step"] == 6);
}

TEST_CASE("state.json: every key is validated and a bad one is refused naming the file and key", "[train][robust]") {
  TinyRun f("state");
  f.train("run", {}, false, 3);
  const std::string sp = state_path(f.run_dir("run"));
  const std::string good = test::slurp(sp), cfg = test::slurp(f.run_dir("run") + "/config.json");
  const nlohmann::json state = nlohmann::json::parse(good);
  REQUIRE(state["step"] == 3);
  struct Edit {
    const char* key;
    nlohmann::json value;  // null: remove the key
    std::vector<const char*> says;
  };
  for (const Edit& e :
       {Edit{"step", -5, {"'step'", "expected an integer in [0, 6]", "found -5"}},
        Edit{"step", 1000000000000, {"'step'", "[0, 6]", "found 1000000000000"}},
        Edit{"step", "3", {"'step'", "found \"3\""}}, Edit{"step", 2.5, {"'step'", "found 2.5"}},
        Edit{"optimizer_count", "abc", {"'optimizer_count'", "[0, 3]", "found \"abc\""}},
        Edit{"optimizer_count", 4, {"'optimizer_count'", "found 4"}},
        Edit{"optimizer_count", nullptr, {"'optimizer_count'", "found none"}},
        Edit{"sampler", 7, {"'sampler'", "expected an object", "found 7"}},
        Edit{"model", "x", {"'model'", "found \"x\""}}, Edit{"world_size", 0, {"'world_size'", "found 0"}}}) {
    nlohmann::json s = state;
    if (e.value.is_null())
      s.erase(e.key);
    else
      s[e.key] = e.value;
    test::spit(sp, s.dump(2));
    INFO(e.key << " = " << e.value.dump());
    try {
      f.train("run", {}, true);
      FAIL("the resume was not refused");
    } catch (const InvalidArgument& err) {
      const std::string msg = err.what();
      INFO(msg);
      REQUIRE(msg.find(sp) != std::string::npos);
      for (const char* want : e.says) REQUIRE(msg.find(want) != std::string::npos);
    }
    REQUIRE(test::slurp(f.run_dir("run") + "/config.json") == cfg);
  }
  // A sampler state of another data set names state.json and the sampler key as well.
  nlohmann::json s = state;
  s["sampler"]["num_samples"] = 5;
  test::spit(sp, s.dump(2));
  REQUIRE_THROWS_WITH(f.train("run", {}, true), Contains(sp) && Contains("key 'sampler'") && Contains("5 samples"));
  // The latest pointer names a checkpoint directory, nothing else.
  const std::string latest = f.run_dir("run") + "/checkpoints/latest", pointer = test::slurp(latest);
  test::spit(latest, "../../somewhere\n");
  REQUIRE_THROWS_WITH(f.train("run", {}, true), Contains(latest) && Contains("found \"../../somewhere\""));
  test::spit(latest, pointer);
  test::spit(sp, good);
  REQUIRE(f.train("run", {}, true).steps_done == 3);
}

TEST_CASE("a diverged model is never checkpointed, and the error names the last good checkpoint", "[train][robust]") {
  TinyRun f("diverge");
  // Step 1 has lr 0 (warmup) and is checkpointed; lr 1e39 then pushes f32 weights to inf in step 2, whose
  // loss (computed before the update) is still finite: only a check of the parameters at the checkpoint
  // of step 2 catches it.
  std::string msg;
  try {
    f.train("run", {"optimizer.lr=1e39", "optimizer.warmup_steps=1", "train.checkpoint_every=1",
                    "optimizer.clip_grad_norm=0"});
  } catch (const RuntimeError& e) {
    msg = e.what();
  }
  INFO(msg);
  REQUIRE(msg.find("step 2: model tensor") != std::string::npos);
  REQUIRE(msg.find("is not finite") != std::string::npos);
  const std::string last = latest_checkpoint(f.run_dir("run"));
  REQUIRE(fs::path(last).filename() == "step_00000001");
  REQUIRE(msg.find("last good checkpoint is " + last) != std::string::npos);
  REQUIRE_FALSE(fs::exists(f.root / "run/checkpoints/step_00000002"));
  CheckpointData c = load_checkpoint(last);
  for (const auto& [name, t] : c.model) {
    INFO(name);
    for (float v : t.to_vector<float>()) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE("a shard truncated in place during a run stops it with an error naming the file", "[train][robust]") {
  // prefetch 0: the batch of step 5 is read after the truncation in step 4, so the last checkpoint is step 3.
  // prefetch 2: up to two batches were read ahead before the truncation; the error comes from the loader's
  // thread one to three steps later.
  for (int prefetch : {0, 2}) {
    INFO("data.prefetch " << prefetch);
    TinyRun f("truncated" + std::to_string(prefetch));
    const std::string shard = (f.root / "data/train.npy").string();
    TruncatingComm comm(shard, 4);  // after the checkpoint of step 3
    try {
      f.train("run",
              {"train.total_steps=20", "train.eval_every=0", "train.checkpoint_every=3",
               "data.prefetch=" + std::to_string(prefetch)},
              false, 0, comm);
      FAIL("the run did not stop");
    } catch (const RuntimeError& e) {
      const std::string msg = e.what();
      INFO(msg);
      REQUIRE(msg.find(shard) != std::string::npos);
      REQUIRE(msg.find("size expected 12128 bytes") != std::string::npos);
      REQUIRE(msg.find("found 100 bytes") != std::string::npos);
    }
    CheckpointData c = load_checkpoint(latest_checkpoint(f.run_dir("run")));
    const int64_t step = c.state["step"].get<int64_t>();
    if (prefetch == 0)
      REQUIRE(step == 3);
    else
      REQUIRE((step == 3 || step == 6));  // 6 when both read-ahead batches were ready before the truncation
    REQUIRE(c.model.size() == load_checkpoint(f.run_dir("run") + "/checkpoints/step_00000003").model.size());
  }
}
