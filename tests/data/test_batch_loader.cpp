// Batch loader: batches equal the dataset's windows, prefetching changes nothing, exceptions reach the
// consumer, resuming from a batch's state_after continues the stream, npy and bin give the same batches.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "data/batch_loader.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {

std::shared_ptr<const WindowDataset> dataset(TokenFormat f, int64_t len) {
  auto tokens = open_split(f, fixture(f == TokenFormat::npy ? "tokens/npy" : "tokens/bin"), "train");
  return std::make_shared<WindowDataset>(tokens, WindowOptions{len, true, 1});
}

Sampler sampler(const WindowDataset& ds, int64_t g, int w = 1, int r = 0) {
  SamplerOptions o;
  o.num_samples = ds.num_samples();
  o.global_batch = g;
  o.world_size = w;
  o.rank = r;
  o.seed = 5;
  return Sampler(o);
}

void require_same(const Batch& a, const Batch& b) {
  REQUIRE(a.indices == b.indices);
  REQUIRE(a.inputs.to_vector<int32_t>() == b.inputs.to_vector<int32_t>());
  REQUIRE(a.targets.to_vector<int32_t>() == b.targets.to_vector<int32_t>());
  REQUIRE(a.loss_mask.to_vector<float>() == b.loss_mask.to_vector<float>());
  REQUIRE(a.state_after == b.state_after);
}

// A stream whose reads fail from a given offset on, or sleep first to shuffle the timing.
class FlakySource final : public TokenSource {
 public:
  FlakySource(std::shared_ptr<const TokenSource> inner, uint64_t fail_from, int sleep_us)
      : inner_(std::move(inner)), fail_from_(fail_from), sleep_us_(sleep_us) {}
  uint64_t size() const override { return inner_->size(); }
  void read(uint64_t offset, uint64_t n, int32_t* out) const override {
    reads++;
    if (sleep_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_ * static_cast<int>(offset % 3)));
    if (offset + n > fail_from_) throw RuntimeError("flaky read at offset " + std::to_string(offset));
    inner_->read(offset, n, out);
  }
  std::string describe() const override { return "flaky"; }
  std::string locate(uint64_t offset) const override { return inner_->locate(offset); }
  mutable std::atomic<uint64_t> reads{0};

 private:
  std::shared_ptr<const TokenSource> inner_;
  uint64_t fail_from_;
  int sleep_us_;
};

}  // namespace

TEST_CASE("batch loader builds (B, T) tensors of the sampled windows", "[data][loader]") {
  auto ds = dataset(TokenFormat::npy, 13);
  BatchLoader loader(ds, sampler(*ds, 6, 2, 1), {0});
  Batch b = loader.next();
  REQUIRE(b.inputs.dtype() == Dtype::i32);
  REQUIRE(b.targets.dtype() == Dtype::i32);
  REQUIRE(b.loss_mask.dtype() == Dtype::f32);
  REQUIRE(b.inputs.shape() == Shape{3, 13});
  REQUIRE(b.loss_mask.shape() == Shape{3, 13});
  REQUIRE(b.indices.size() == 3);
  std::vector<int32_t> in(13), tg(13);
  std::vector<float> mk(13);
  for (int64_t r = 0; r < 3; ++r) {
    ds->get(b.indices[r], in.data(), tg.data(), mk.data());
    for (int64_t t = 0; t < 13; ++t) {
      REQUIRE(b.inputs.at({r, t}) == in[t]);
      REQUIRE(b.targets.at({r, t}) == tg[t]);
      REQUIRE(b.loss_mask.at({r, t}) == mk[t]);
    }
  }
  REQUIRE(loader.state() == b.state_after);
  REQUIRE(b.state_after == SamplerState{0, 6});
}

TEST_CASE("prefetching loader gives the same batches as the synchronous one", "[data][loader]") {
  auto ds = dataset(TokenFormat::npy, 7);  // 285 samples, 23 steps of 12 per epoch
  auto slow = std::make_shared<WindowDataset>(
      std::make_shared<FlakySource>(open_split(TokenFormat::npy, fixture("tokens/npy"), "train"), UINT64_MAX, 50),
      WindowOptions{7, true, 1});
  BatchLoader sync(ds, sampler(*ds, 12, 3, 2), {0});
  BatchLoader ahead(ds, sampler(*ds, 12, 3, 2), {2});
  BatchLoader deep(slow, sampler(*slow, 12, 3, 2), {5});
  for (int step = 0; step < 50; ++step) {  // crosses two epoch boundaries
    Batch a = sync.next();
    require_same(a, ahead.next());
    require_same(a, deep.next());
    if (step % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // let the producer run ahead
  }
  REQUIRE(sync.state() == ahead.state());
  REQUIRE(sync.state().epoch == 2);
}

TEST_CASE("batch loader resumed from a batch's state_after continues the stream", "[data][loader]") {
  auto ds = dataset(TokenFormat::bin, 11);
  BatchLoader ref(ds, sampler(*ds, 8), {3});
  std::vector<Batch> want;
  for (int i = 0; i < 40; ++i) want.push_back(ref.next());
  Sampler s = sampler(*ds, 8);
  s.load_state_json(nlohmann::json{{"epoch", want[24].state_after.epoch},
                                   {"position", want[24].state_after.position},
                                   {"num_samples", ds->num_samples()},
                                   {"global_batch", 8},
                                   {"seed", 5},
                                   {"order", "shuffled"}});
  BatchLoader resumed(ds, s, {3});
  for (int i = 25; i < 40; ++i) require_same(resumed.next(), want[i]);
}

TEST_CASE("npy and bin sources give identical batches", "[data][loader]") {
  auto a = dataset(TokenFormat::npy, 16), b = dataset(TokenFormat::bin, 16);
  BatchLoader la(a, sampler(*a, 4), {2}), lb(b, sampler(*b, 4), {2});
  for (int i = 0; i < 40; ++i) require_same(la.next(), lb.next());
}

TEST_CASE("batch loader forwards a producer exception to the consumer, at its turn and after", "[data][loader]") {
  auto tokens = open_split(TokenFormat::npy, fixture("tokens/npy"), "train");
  WindowOptions wo{16, true, 1};
  auto good = std::make_shared<WindowDataset>(tokens, wo);
  auto flaky = std::make_shared<WindowDataset>(std::make_shared<FlakySource>(tokens, 1000, 0), wo);
  for (int prefetch : {0, 1, 4}) {
    INFO("prefetch " << prefetch);
    SamplerOptions o;
    o.num_samples = good->num_samples();
    o.global_batch = 2;
    o.order = SampleOrder::sequential;  // windows 0..61 end before token 1000, window 62 crosses it
    BatchLoader ok(good, Sampler(o), {prefetch});
    BatchLoader bad(flaky, Sampler(o), {prefetch});
    for (int step = 0; step < 31; ++step) require_same(bad.next(), ok.next());
    REQUIRE_THROWS_WITH(bad.next(), Contains("flaky read at offset"));
    REQUIRE_THROWS_WITH(bad.next(), Contains("flaky read at offset"));  // sticky
    REQUIRE(bad.state() == SamplerState{0, 62});
  }
}

TEST_CASE("prefetch builds at most `prefetch` batches ahead of the consumer", "[data][loader]") {
  auto source =
      std::make_shared<FlakySource>(open_split(TokenFormat::npy, fixture("tokens/npy"), "train"), UINT64_MAX, 0);
  auto ds = std::make_shared<WindowDataset>(source, WindowOptions{16, true, 1});
  const uint64_t reads_per_batch = 2 * 4;  // two reads per window, 4 windows
  BatchLoader loader(ds, sampler(*ds, 4), {2});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // ample time to run ahead if it could
  REQUIRE(source->reads <= 2 * reads_per_batch);
  loader.next();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  REQUIRE(source->reads <= 3 * reads_per_batch);
}

TEST_CASE("batch loader shuts down cleanly with a full queue", "[data][loader]") {
  auto ds = dataset(TokenFormat::npy, 5);
  for (int i = 0; i < 20; ++i) {
    BatchLoader loader(ds, sampler(*ds, 4), {3});
    if (i % 2) loader.next();
  }
  REQUIRE_THROWS_WITH(BatchLoader(ds, sampler(*dataset(TokenFormat::npy, 6), 4)),
                      Contains("[loader] the sampler covers 333 samples but the dataset has 399"));
}
