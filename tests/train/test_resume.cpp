// Training end to end on a tiny model and synthetic tokens: a stopped-and-resumed run equals the
// uninterrupted one bit for bit (weights, optimizer moments, losses); a resume that changes the model is
// refused; a non-finite loss stops the run naming the step and keeps the last checkpoint; an extended run
// keeps the learning-rate schedule; a run directory is never silently reused; metrics.jsonl records starts.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "data/npy.h"
#include "train/checkpoint.h"
#include "train/communicator.h"
#include "train/run_config.h"
#include "train/trainer.h"
#include "tiny_run.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

namespace {

struct Fixture : test::TinyRun {
  explicit Fixture(const std::string& name) : TinyRun(name, 12345, "tttlm_resume_") {}
  TrainResult train(const std::string& run, std::vector<std::string> sets, bool resume = false, int64_t stop_after = 0,
                    bool overwrite = false) {
    TrainOptions o;
    o.stop_after_step = stop_after;
    o.overwrite = overwrite;
    o.config_path = resume ? (root / run).string() : config;
    sets.push_back("train.run_dir=" + (root / run).string());
    o.overrides = sets;
    o.resume = resume;
    o.quiet = true;
    SingleProcess comm;
    return run_training(o, comm);
  }
  std::vector<nlohmann::json> records(const std::string& run, const std::string& type = "") {
    std::vector<nlohmann::json> out;
    std::ifstream f(root / run / "metrics.jsonl");
    for (std::string line; std::getline(f, line);) {
      auto j = nlohmann::json::parse(line);
      if (type.empty() || j["type"] == type) out.push_back(j);
    }
    return out;
  }
  std::vector<double> values(const std::string& run, const std::string& key) {
    std::vector<double> out;
    for (const auto& r : records(run, "train")) out.push_back(r[key].get<double>());
    return out;
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
  REQUIRE_THROWS_WITH(
      f.train("run", {"optimizer.lr=1e38", "optimizer.warmup_steps=0", "train.checkpoint_every=1",
                      "optimizer.clip_grad_norm=0"}),
      Catch::Contains("is not finite") && Catch::Contains("step ") && Catch::Contains("last good checkpoint is"));
  std::string last = latest_checkpoint((f.root / "run").string());
  REQUIRE_FALSE(last.empty());
  CheckpointData c = load_checkpoint(last);  // intact and loadable
  REQUIRE(c.state["step"].get<int64_t>() >= 1);
}

namespace {
double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }
std::vector<double> iota_steps(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}
}  // namespace

TEST_CASE("extending a finished run trains at the lr of a run configured with the new total from the start",
          "[train][resume]") {
  Fixture f("extend");
  // warmup 5 over 6 steps: the first 6 lrs (counts 0..5) do not depend on decay_steps, so the extended run
  // and the one planned for 12 steps must agree bit for bit on everything.
  TrainResult planned = f.train("planned", {"optimizer.warmup_steps=5", "train.total_steps=12"});
  f.train("extended", {"optimizer.warmup_steps=5"});  // 6 steps, finished
  TrainResult ext = f.train("extended", {"train.total_steps=12"}, /*resume=*/true);
  const std::vector<double> lr_planned = f.values("planned", "lr"), lr_ext = f.values("extended", "lr");
  REQUIRE(lr_planned.size() == 12);
  REQUIRE(lr_ext == lr_planned);
  REQUIRE(lr_ext[6] > 0.009);   // step 7: just past the peak 0.01, not end_lr
  REQUIRE(lr_ext[11] > 10e-5);  // step 12 (about 5e-4): still decaying towards end_lr 1e-5
  REQUIRE(f.losses("extended") == f.losses("planned"));
  CheckpointData a = load_checkpoint(latest_checkpoint((f.root / "planned").string()));
  CheckpointData b = load_checkpoint(latest_checkpoint((f.root / "extended").string()));
  REQUIRE(b.state["step"] == 12);
  require_same_tensors(a.model, b.model);
  require_same_tensors(a.optimizer, b.optimizer);
  // The saved configs: resolved with the derived value, input without it.
  std::ifstream cfg(f.root / "extended/config.json"), input(f.root / "extended/config.input.json");
  REQUIRE(nlohmann::json::parse(cfg)["optimizer"]["decay_steps"] == 12);
  REQUIRE_FALSE(nlohmann::json::parse(input)["optimizer"].contains("decay_steps"));
  REQUIRE(planned.warnings.empty());
  REQUIRE(ext.warnings.empty());
}

TEST_CASE("an explicit decay_steps stays when a run is extended, and the first step past it warns once",
          "[train][resume]") {
  Fixture f("explicit");
  f.train("run", {"optimizer.decay_steps=6"});
  TrainResult r = f.train("run", {"train.total_steps=9"}, /*resume=*/true);
  const std::vector<double> lr = f.values("run", "lr");
  REQUIRE(lr.size() == 9);
  REQUIRE(lr[5] > 1e-4);                                                      // step 6 (count 5) still decays
  for (int i = 6; i < 9; ++i) REQUIRE(lr[i] == Approx(1e-5).epsilon(1e-12));  // end_lr after decay_steps
  REQUIRE(r.warnings.size() == 1);
  REQUIRE_THAT(r.warnings[0], Catch::Contains("step 7 ") && Catch::Contains("optimizer.decay_steps 6"));
}

TEST_CASE("a run directory that holds a run is refused; --overwrite starts it over", "[train][resume]") {
  Fixture f("reuse");
  const std::string dir = (f.root / "run").string();
  f.train("reference", {});
  f.train("run", {}, false, /*stop_after=*/4);  // "killed" after step 4
  REQUIRE_THROWS_WITH(f.train("run", {}), Catch::Contains(dir) && Catch::Contains("--resume") &&
                                              Catch::Contains("--overwrite") &&
                                              Catch::Contains("metrics.jsonl (last train step 4)"));
  REQUIRE(f.values("run", "step") == iota_steps(4));  // the refusal changed nothing
  REQUIRE_THROWS_WITH(f.train("run", {}, true, 0, /*overwrite=*/true), Catch::Contains("exclude each other"));
  f.train("run", {}, false, 0, /*overwrite=*/true);
  REQUIRE(f.values("run", "step") == iota_steps(6));  // one record per step, no second step 1
  REQUIRE(f.losses("run") == f.losses("reference"));
  REQUIRE(f.records("run", "start").size() == 1);
  REQUIRE(load_checkpoint(latest_checkpoint(dir)).state["step"] == 6);
}

TEST_CASE("metrics.jsonl: wall-clock time on every record, a start record at each start and resume",
          "[train][resume]") {
  Fixture f("start");
  const double t0 = unix_now();
  f.train("run", {}, false, /*stop_after=*/4);
  f.train("run", {}, true);                       // resumes at step 3
  f.train("run", {"train.total_steps=8"}, true);  // resumes at step 6 with another config
  const double t1 = unix_now();
  double prev = 0;
  for (const auto& r : f.records("run")) {
    INFO(r.dump());
    REQUIRE(r["time"].is_number_float());
    const double t = r["time"].get<double>();
    REQUIRE(t >= t0);
    REQUIRE(t <= t1);
    REQUIRE(t >= prev);
    prev = t;
  }
  REQUIRE(f.values("run", "step") == iota_steps(8));
  const auto starts = f.records("run", "start");
  REQUIRE(starts.size() == 3);
  const std::vector<int64_t> at = {0, 3, 6};
  for (size_t i = 0; i < 3; ++i) {
    INFO(starts[i].dump());
    REQUIRE(starts[i]["step"] == at[i]);
    REQUIRE(starts[i]["resume"] == (i > 0));
    REQUIRE(starts[i]["world_size"] == 1);
    const std::string commit = starts[i]["git_commit"].get<std::string>();
    REQUIRE((commit == "unknown" ||
             (commit.size() == 40 && commit.find_first_not_of("0123456789abcdef") == std::string::npos)));
    REQUIRE(starts[i]["config_hash"].get<std::string>().size() == 16);
  }
  REQUIRE(starts[0]["config_hash"] == starts[1]["config_hash"]);  // same config
  REQUIRE(starts[2]["config_hash"] != starts[1]["config_hash"]);  // total_steps changed
  REQUIRE(starts[2]["config_hash"] == load_run_config((f.root / "run/config.json").string()).hash());
  REQUIRE(starts[2]["total_steps"] == 8);
}

TEST_CASE("a run written when model.inner_snapshot_every was called checkpoint_every resumes bit-exactly",
          "[train][resume]") {
  Fixture f("old_key");
  f.train("full", {"model.inner_snapshot_every=2"});
  f.train("old", {"model.inner_snapshot_every=2"}, false, /*stop_after=*/4);
  // Rewrite what the older tttlm wrote: the run's configs and every checkpoint's state.json.
  auto rename_in = [](const fs::path& p) {
    std::ifstream in(p);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const std::string now = "\"inner_snapshot_every\"";
    const size_t at = s.find(now);
    if (at == std::string::npos) return false;
    s.replace(at, now.size(), "\"checkpoint_every\"");
    std::ofstream(p, std::ios::trunc) << s;
    return true;
  };
  REQUIRE(rename_in(f.root / "old" / "config.json"));
  rename_in(f.root / "old" / "config.input.json");
  int states = 0;
  for (const auto& e : fs::recursive_directory_iterator(f.root / "old" / "checkpoints"))
    if (e.path().filename() == "state.json") states += rename_in(e.path());
  REQUIRE(states >= 1);
  f.train("old", {}, /*resume=*/true);
  require_same_tensors(load_checkpoint(latest_checkpoint((f.root / "full").string())).model,
                       load_checkpoint(latest_checkpoint((f.root / "old").string())).model);
  // Both names at once are refused, naming the new one.
  REQUIRE_THROWS_WITH(f.train("both", {"model.inner_snapshot_every=2", "model.checkpoint_every=2"}),
                      Catch::Contains("model.inner_snapshot_every"));
}
