// A stop signal (SIGTERM, SIGUSR1, SIGINT) received during training ends the run after the current step
// with a checkpoint of that step; resuming from it ends bit for bit where the uninterrupted run ends.
#include <catch2/catch.hpp>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <thread>

#include "train/checkpoint.h"
#include "train/stop_signal.h"
#include "tiny_run.h"

using namespace tttlm;
using namespace tttlm::train;

namespace {

void require_same_tensors(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(t.to_vector<float>() == b.at(name).to_vector<float>());
  }
}

// The stop signals are taken over for the rest of the test process (as by `tttlm train`); the flag is
// cleared before and after each test.
struct Handlers {
  Handlers() {
    install_stop_handlers();
    reset_stop_signal();
  }
  ~Handlers() { reset_stop_signal(); }
};

// Sends `sig` to this process and waits until it is recorded (the waiting thread takes it).
void send(int sig) {
  ::kill(::getpid(), sig);
  for (int i = 0; i < 2000 && stop_signal() != sig; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

TEST_CASE("a stop signal ends training after the current step with a checkpoint of it", "[train][signal]") {
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) {
    INFO(stop_signal_name(sig));
    test::TinyRun f("signal");
    f.train("full");
    Handlers h;
    send(sig);  // before the first step: the run stops after step 1
    REQUIRE(stop_signal() == sig);
    TrainResult r = f.train("split", {"train.checkpoint_every=0"});
    REQUIRE(r.stopped_by == stop_signal_name(sig));
    REQUIRE(r.steps_done == 1);
    REQUIRE(std::filesystem::path(r.checkpoint).filename() == "step_00000001");
    REQUIRE(latest_checkpoint(f.run_dir("split")) == r.checkpoint);
    REQUIRE(load_checkpoint(r.checkpoint).state["step"] == 1);

    reset_stop_signal();
    TrainResult rest = f.train("split", {}, /*resume=*/true);
    REQUIRE(rest.stopped_by.empty());
    REQUIRE(rest.steps_done == 5);
    CheckpointData a = load_checkpoint(latest_checkpoint(f.run_dir("full")));
    CheckpointData b = load_checkpoint(latest_checkpoint(f.run_dir("split")));
    REQUIRE(a.state["step"] == 6);
    REQUIRE(b.state["step"] == 6);
    require_same_tensors(a.model, b.model);
    require_same_tensors(a.optimizer, b.optimizer);
  }
}

TEST_CASE("a stop signal during the last step ends the run normally", "[train][signal]") {
  test::TinyRun f("signal_last");
  Handlers h;
  send(SIGTERM);
  TrainResult r = f.train("run", {"train.total_steps=1", "optimizer.warmup_steps=0"});
  REQUIRE(r.stopped_by.empty());
  REQUIRE(r.steps_done == 1);
  REQUIRE(std::filesystem::path(latest_checkpoint(f.run_dir("run"))).filename() == "step_00000001");
}
