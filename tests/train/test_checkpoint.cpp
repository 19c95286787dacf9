#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "helpers.h"
#include "train/checkpoint.h"
#include "train/safetensors.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

TEST_CASE("safetensors round trip for every dtype", "[train][checkpoint]") {
  fs::path p = fs::temp_directory_path() / "tttlm_st_test.safetensors";
  std::map<std::string, Tensor> t = {{"a", test::randn({3, 5}, 1)},
                                     {"b", test::randn({7}, 2, Dtype::f64)},
                                     {"c", Tensor::from_vector(std::vector<int32_t>{1, -2, 3}, {3})},
                                     {"d", Tensor::from_vector(std::vector<int64_t>{5, 6}, {2, 1})},
                                     {"e", Tensor::full({2, 2}, 0.5, Dtype::bf16)}};
  save_safetensors(p.string(), t, {{"k", "v"}});
  SafetensorsFile r = load_safetensors(p.string());
  REQUIRE(r.metadata.at("k") == "v");
  for (const auto& [name, x] : t) {
    INFO(name);
    REQUIRE(r.tensors.at(name).dtype() == x.dtype());
    REQUIRE(r.tensors.at(name).shape() == x.shape());
    REQUIRE(r.tensors.at(name).to_vector<double>() == x.to_vector<double>());
  }
}

TEST_CASE("a truncated safetensors file is a clear error", "[train][checkpoint]") {
  fs::path p = fs::temp_directory_path() / "tttlm_st_trunc.safetensors";
  save_safetensors(p.string(), {{"w", test::randn({64, 64}, 3)}});
  fs::resize_file(p, fs::file_size(p) - 100);
  REQUIRE_THROWS_WITH(load_safetensors(p.string()), Catch::Contains("truncated") && Catch::Contains("\"w\""));
}

TEST_CASE("a process killed while writing a checkpoint leaves the previous one usable", "[train][checkpoint]") {
  fs::path run = fs::temp_directory_path() / "tttlm_ckpt_kill";
  fs::remove_all(run);
  CheckpointData good;
  good.model = {{"w", test::randn({8, 8}, 4)}};
  good.optimizer = {{"w.m", test::randn({8, 8}, 5)}};
  good.state = {{"step", 1}};
  save_checkpoint(run.string(), 1, good, 3);
  // A child starts writing a large checkpoint for step 2 and is killed mid-write.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    CheckpointData big;
    big.model = {{"w", Tensor::zeros({4096, 4096}, Dtype::f32)}};
    big.optimizer = {{"w.m", Tensor::zeros({4096, 4096}, Dtype::f32)}};
    big.state = {{"step", 2}};
    for (int i = 0; i < 1000; ++i) save_checkpoint(run.string(), 2 + i, big, 1000);
    _exit(0);
  }
  usleep(150 * 1000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string latest = latest_checkpoint(run.string());
  REQUIRE_FALSE(latest.empty());
  CheckpointData back = load_checkpoint(latest);  // whatever `latest` names is complete
  REQUIRE(back.model.count("w") == 1);
  REQUIRE(back.state.contains("step"));
  // The next save prunes leftovers and works.
  save_checkpoint(run.string(), 5000, good, 2);
  REQUIRE(fs::path(latest_checkpoint(run.string())).filename() == "step_00005000");
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(run / "checkpoints"))
    if (e.is_directory()) ++dirs;
  REQUIRE(dirs <= 2);
}
