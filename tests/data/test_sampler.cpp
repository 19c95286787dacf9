// Sampler: each epoch is a permutation that depends on (seed, epoch); ranks split the global batch;
// drop_last; a resumed sampler continues exactly as an uninterrupted one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "data/sampler.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;

namespace {

SamplerOptions opts(uint64_t n, int64_t g, int w = 1, int r = 0, uint64_t seed = 7,
                    SampleOrder order = SampleOrder::shuffled) {
  SamplerOptions o;
  o.num_samples = n;
  o.global_batch = g;
  o.world_size = w;
  o.rank = r;
  o.seed = seed;
  o.order = order;
  return o;
}

std::vector<uint64_t> epoch_order(const Sampler& s, uint64_t epoch) {
  std::vector<uint64_t> out(s.options().num_samples);
  for (uint64_t p = 0; p < out.size(); ++p) out[p] = s.sample_at(epoch, p);
  return out;
}

}  // namespace

TEST_CASE("sampler order is a permutation for sizes around powers of two", "[data][sampler]") {
  for (uint64_t n : {1, 2, 3, 4, 5, 7, 11, 13, 16, 17, 63, 64, 65, 1000, 4097}) {
    INFO("num_samples " << n);
    Sampler s(opts(n, 1));
    for (uint64_t epoch : {0, 1, 9}) {
      auto order = epoch_order(s, epoch);
      std::sort(order.begin(), order.end());
      for (uint64_t i = 0; i < n; ++i) REQUIRE(order[i] == i);
    }
  }
}

TEST_CASE("sampler order differs across epochs and seeds and looks shuffled", "[data][sampler]") {
  const uint64_t n = 1000;
  Sampler a(opts(n, 10, 1, 0, 7)), b(opts(n, 10, 1, 0, 8));
  auto a0 = epoch_order(a, 0), a1 = epoch_order(a, 1), b0 = epoch_order(b, 0);
  REQUIRE(a0 == epoch_order(Sampler(opts(n, 10, 1, 0, 7)), 0));  // deterministic
  auto agree = [](const std::vector<uint64_t>& x, const std::vector<uint64_t>& y) {
    size_t same = 0;
    for (size_t i = 0; i < x.size(); ++i) same += x[i] == y[i];
    return same;
  };
  REQUIRE(agree(a0, a1) < 10);  // a random pair of permutations agrees in about 1 place
  REQUIRE(agree(a0, b0) < 10);
  // Not close to the identity: few fixed points, and the mean displacement is near n/3.
  std::vector<uint64_t> id(n);
  for (uint64_t i = 0; i < n; ++i) id[i] = i;
  REQUIRE(agree(a0, id) < 10);
  double displacement = 0;
  for (uint64_t i = 0; i < n; ++i) displacement += std::abs(static_cast<double>(a0[i]) - static_cast<double>(i));
  REQUIRE(std::abs(displacement / n - n / 3.0) < n / 20.0);
}

TEST_CASE("sampler ranks partition each global batch and drop the last partial batch", "[data][sampler]") {
  const uint64_t n = 103;  // 12 steps of 8, 7 samples dropped per epoch
  const int world = 4;
  std::vector<Sampler> ranks;
  for (int r = 0; r < world; ++r) ranks.emplace_back(opts(n, 8, world, r, 3));
  Sampler whole(opts(n, 8, 1, 0, 3));
  REQUIRE(whole.steps_per_epoch() == 12);
  REQUIRE(ranks[0].local_batch() == 2);
  for (uint64_t epoch = 0; epoch < 2; ++epoch) {
    std::set<uint64_t> seen;
    for (uint64_t step = 0; step < 12; ++step) {
      std::vector<uint64_t> joined;
      for (auto& s : ranks) {
        auto part = s.next();
        REQUIRE(part.size() == 2);
        joined.insert(joined.end(), part.begin(), part.end());
      }
      REQUIRE(joined == whole.next());  // rank r holds positions [2r, 2r+2) of the global batch
      seen.insert(joined.begin(), joined.end());
    }
    REQUIRE(seen.size() == 96);  // no sample twice within an epoch
    REQUIRE(whole.state() == SamplerState{epoch + 1, 0});
  }
}

TEST_CASE("sampler resumed from a saved state continues like the uninterrupted one", "[data][sampler]") {
  const uint64_t n = 50;
  Sampler ref(opts(n, 6, 2, 1, 11));
  std::vector<std::vector<uint64_t>> want;
  nlohmann::json saved;
  for (int step = 0; step < 30; ++step) {  // 8 steps per epoch: crosses three epoch boundaries
    if (step == 13) saved = ref.state_json();
    want.push_back(ref.next());
  }
  REQUIRE(saved["epoch"] == 1);
  REQUIRE(saved["position"] == 30);
  // Through a JSON string, as a checkpoint stores it; a different world size resumes the same stream.
  Sampler resumed(opts(n, 6, 2, 1, 11));
  resumed.load_state_json(nlohmann::json::parse(saved.dump()));
  for (int step = 13; step < 30; ++step) REQUIRE(resumed.next() == want[step]);
  Sampler single(opts(n, 6, 1, 0, 11));
  single.load_state_json(saved);
  auto global = single.next();
  REQUIRE(std::vector<uint64_t>(global.begin() + 3, global.end()) == want[13]);
}

TEST_CASE("sampler rejects bad configurations and mismatched states", "[data][sampler]") {
  REQUIRE_THROWS_WITH(Sampler(opts(100, 10, 4)),
                      Contains("[sampler] global_batch 10 must be divisible by the world size 4"));
  REQUIRE_THROWS_WITH(Sampler(opts(100, 8, 4, 4)), Contains("rank must be in [0, 4); got 4"));
  REQUIRE_THROWS_WITH(Sampler(opts(5, 8)), Contains("the dataset has 5 samples, fewer than one global batch of 8"));
  REQUIRE_THROWS_WITH(Sampler(opts(5, 0)), Contains("global_batch must be >= 1"));
  Sampler s(opts(100, 10));
  nlohmann::json j = s.state_json();
  REQUIRE_THROWS_WITH(Sampler(opts(101, 10)).load_state_json(j),
                      Contains("saved for 100 samples; the dataset now has 101"));
  REQUIRE_THROWS_WITH(Sampler(opts(100, 20)).load_state_json(j), Contains("global_batch 10; this run uses 20"));
  REQUIRE_THROWS_WITH(Sampler(opts(100, 10, 1, 0, 8)).load_state_json(j), Contains("seed 7; this run uses 8"));
  REQUIRE_THROWS_WITH(Sampler(opts(100, 10, 1, 0, 7, SampleOrder::sequential)).load_state_json(j),
                      Contains("order \"shuffled\""));
  nlohmann::json missing = j;
  missing.erase("position");
  REQUIRE_THROWS_WITH(s.load_state_json(missing), Contains("state lacks the key 'position'"));
  REQUIRE_THROWS_WITH(s.set_state({0, 15}), Contains("position 15 must be a multiple of global_batch 10"));
  REQUIRE_THROWS_WITH(s.set_state({0, 100}), Contains("below 100"));
}

TEST_CASE("sequential sampler visits samples in order every epoch", "[data][sampler]") {
  Sampler s(opts(10, 4, 2, 1, 0, SampleOrder::sequential));
  REQUIRE(s.next() == std::vector<uint64_t>{2, 3});
  REQUIRE(s.next() == std::vector<uint64_t>{6, 7});
  REQUIRE(s.state() == SamplerState{1, 0});  // 8 and 9 are dropped
  REQUIRE(s.next() == std::vector<uint64_t>{2, 3});
}
