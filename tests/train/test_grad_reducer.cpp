// Gradient buckets and ZeRO-1 sharding against a fake process group: a "world" of W identical ranks whose
// all-reduce multiplies by W and records the order of the calls. The bucketed all-reduce must equal W x
// the plain gradients, start buckets in index order while backward runs, cap buckets by size, count a
// parameter without a gradient as zeros, and leave no hooks behind. (The real MPI path is tested with 2
// processes by test_dp.sh.)
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/elementwise.h"
#include "layers/causal_lm.h"
#include "train/grad_reducer.h"
#include "train/zero1.h"

using namespace tttlm;
using namespace tttlm::train;

namespace {

class FakeWorld final : public Communicator {
 public:
  FakeWorld(int world, int rank) : world_(world), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return rank_; }
  void all_reduce_sum(const Tensor& t) override {
    sizes.push_back(t.numel());
    in_backward.push_back(backward_running);
    ops::scale_(t, world_);
  }
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  void check_same(const std::string&, const std::string&) override {}
  void check_all(const std::string&, const std::string& e) override {
    if (!e.empty()) throw RuntimeError(e);
  }
  std::string name() const override { return "fake"; }
  std::vector<int64_t> sizes;
  std::vector<bool> in_backward;
  bool backward_running = false;

 private:
  int world_, rank_;
};

layers::ModelConfig tiny() {
  return layers::ModelConfig::from_json({{"kind", "ttt-linear-mamba"},
                                         {"vocab_size", 50},
                                         {"hidden_size", 16},
                                         {"num_heads", 2},
                                         {"num_layers", 2},
                                         {"intermediate_size", 24},
                                         {"max_seq_len", 8},
                                         {"mini_batch_size", 4}},
                                        "test");
}

Tensor ids(int64_t seed) {
  std::vector<int32_t> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>((i * 7 + static_cast<size_t>(seed) * 13) % 50);
  return Tensor::from_vector(v, {2, 8});
}

void backward_once(const layers::CausalLM& m) {
  autograd::backward(m.loss(ids(1), ids(2), Tensor::full({2, 8}, 1.0, Dtype::f32)));
}

}  // namespace

TEST_CASE("gradient buckets sum to W x the plain gradients, started in order during backward", "[train][dp]") {
  layers::CausalLM model(tiny());
  model.materialize(cpu_device(), 3);
  auto params = model.parameters();
  backward_once(model);
  std::vector<std::vector<float>> plain;
  for (auto* p : params) plain.push_back(p->value.grad().to_vector<float>());
  for (auto* p : params) p->value.set_grad(Tensor());

  FakeWorld world(3, 0);
  const double bucket_mb = 512.0 * 4 / (1024 * 1024);  // 512 floats
  GradReducer reducer(params, world, bucket_mb);
  REQUIRE(reducer.stats().buckets > 3);
  // Buckets: reverse declaration order, each closed once it reaches 512 floats.
  auto of = reducer.bucket_of();
  for (size_t k = 1; k < params.size(); ++k) CHECK(of[k] <= of[k - 1]);
  reducer.arm();
  world.backward_running = true;
  backward_once(model);
  world.backward_running = false;
  const size_t started = world.sizes.size();
  reducer.finish();
  CHECK(started == static_cast<size_t>(reducer.stats().started_in_backward));
  CHECK(started >= static_cast<size_t>(reducer.stats().buckets) - 1);  // all but possibly the embedding's
  REQUIRE(world.sizes.size() == static_cast<size_t>(reducer.stats().buckets));
  int64_t total = 0;
  for (size_t b = 0; b < world.sizes.size(); ++b) {
    total += world.sizes[b];
    if (b + 1 < world.sizes.size()) CHECK(world.sizes[b] >= 512);
  }
  CHECK(total * 4 == reducer.stats().bytes);
  for (size_t k = 0; k < params.size(); ++k) {
    std::vector<float> got = params[k]->value.grad().to_vector<float>();
    REQUIRE(got.size() == plain[k].size());
    for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == 3.0f * plain[k][i]);
  }
  // No hooks remain: a backward without arm() leaves the grads to plain accumulation.
  for (auto* p : params) p->value.set_grad(Tensor());
  backward_once(model);
  CHECK(world.sizes.size() == static_cast<size_t>(reducer.stats().buckets));
  CHECK(params[0]->value.grad().to_vector<float>() == plain[0]);
}

TEST_CASE("gradient buckets count a parameter without gradient as zeros", "[train][dp]") {
  layers::CausalLM model(tiny());
  model.materialize(cpu_device(), 3);
  auto params = model.parameters();
  FakeWorld world(2, 0);
  GradReducer reducer(params, world, 25);
  REQUIRE(reducer.stats().buckets == 1);
  params[1]->value.set_grad(Tensor::full(params[1]->shape, 0.5, Dtype::f32));
  reducer.arm();  // no backward at all: finish() takes the grads as they are
  reducer.finish();
  CHECK(params[0]->value.grad().to_vector<float>() == std::vector<float>(params[0]->value.numel(), 0.0f));
  CHECK(params[1]->value.grad().to_vector<float>() == std::vector<float>(params[1]->value.numel(), 1.0f));
  CHECK_THROWS_WITH(reducer.finish(), Catch::Contains("finish() without arm()"));
  CHECK_THROWS_WITH(GradReducer(params, world, 0), Catch::Contains("bucket_mb must be > 0"));
}

TEST_CASE("ZeRO-1 gives each rank a contiguous, balanced run of parameters", "[train][dp]") {
  layers::CausalLM model(tiny());
  model.materialize(cpu_device(), 3);
  auto params = model.parameters();
  int64_t total = 0;
  for (auto* p : params) total += p->value.numel();
  for (int world : {2, 3, 5}) {
    std::vector<int64_t> owned(static_cast<size_t>(world), 0);
    int last = 0;
    for (int rank = 0; rank < world; ++rank) {
      FakeWorld w(world, rank);
      Zero1 z(params, w);
      auto flags = z.owned();
      for (size_t i = 0; i < params.size(); ++i) {
        CHECK(flags[i] == (z.owner(i) == rank));
        if (flags[i]) owned[static_cast<size_t>(rank)] += params[i]->value.numel();
        if (rank == 0) {
          CHECK(z.owner(i) >= last);  // contiguous runs in order
          last = z.owner(i);
        }
      }
      AdamW opt(params, train::OptimizerConfig{}, flags);
      CHECK(opt.state_numel() == 2 * owned[static_cast<size_t>(rank)]);
    }
    int64_t sum = 0, largest_param = 0;
    for (auto n : owned) sum += n;
    for (auto* p : params) largest_param = std::max(largest_param, p->value.numel());
    CHECK(sum == total);
    // Each run is within one parameter of the even share.
    for (auto n : owned) CHECK(std::abs(n - total / world) <= largest_param);
  }
}
