// Windows of the official LMDataset against numpy slicing (scripts/make_data_fixtures.py), and the
// npy and bin sources giving identical windows.
#include <catch2/catch.hpp>

#include "data/window_dataset.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {

std::shared_ptr<const TokenSource> train(TokenFormat f) {
  return open_split(f, fixture(f == TokenFormat::npy ? "tokens/npy" : "tokens/bin"), "train");
}

struct Window {
  std::vector<int32_t> inputs, targets;
  std::vector<float> mask;
};

Window window(const WindowDataset& ds, uint64_t i) {
  size_t len = static_cast<size_t>(ds.seq_len());
  Window w{std::vector<int32_t>(len), std::vector<int32_t>(len), std::vector<float>(len)};
  ds.get(i, w.inputs.data(), w.targets.data(), w.mask.data());
  return w;
}

}  // namespace

TEST_CASE("window dataset matches numpy's tokens[i*L : i*L+L+1] with the BOS loss mask", "[data][window]") {
  auto in = read_npy(fixture("tokens/windows_L16_inputs.npy")).to_vector<int64_t>();
  auto tg = read_npy(fixture("tokens/windows_L16_targets.npy")).to_vector<int64_t>();
  auto mk = read_npy(fixture("tokens/windows_L16_mask.npy")).to_vector<float>();
  for (auto f : {TokenFormat::npy, TokenFormat::bin}) {
    WindowDataset ds(train(f), {16, true, 1});
    REQUIRE(ds.num_samples() == 124);  // (2000 - 1) // 16
    size_t masked = 0;
    for (uint64_t i = 0; i < ds.num_samples(); ++i) {
      Window w = window(ds, i);
      for (size_t t = 0; t < 16; ++t) {
        INFO("sample " << i << " position " << t);
        REQUIRE(w.inputs[t] == in[i * 16 + t]);
        REQUIRE(w.targets[t] == tg[i * 16 + t]);
        REQUIRE(w.mask[t] == mk[i * 16 + t]);
        masked += w.mask[t] == 0.0f;
      }
    }
    REQUIRE(masked > 10);  // the fixture has BOS targets, so the mask is exercised
  }
}

TEST_CASE("window dataset without mask_bos trains on every target", "[data][window]") {
  WindowDataset ds(train(TokenFormat::npy), {16, false, 1});
  for (uint64_t i = 0; i < ds.num_samples(); ++i)
    for (float m : window(ds, i).mask) REQUIRE(m == 1.0f);
}

TEST_CASE("window dataset: npy and bin give identical windows for odd sequence lengths", "[data][window]") {
  for (int64_t len : {1, 5, 7, 11, 13, 100, 1233, 1999}) {
    INFO("seq_len " << len);
    WindowDataset a(train(TokenFormat::npy), {len, true, 1});
    WindowDataset b(train(TokenFormat::bin), {len, true, 1});
    REQUIRE(a.num_samples() == static_cast<uint64_t>((2000 - 1) / len));
    for (uint64_t i = 0; i < a.num_samples(); i += 1 + a.num_samples() / 50) {
      Window wa = window(a, i), wb = window(b, i);
      REQUIRE(wa.inputs == wb.inputs);
      REQUIRE(wa.targets == wb.targets);
      REQUIRE(wa.mask == wb.mask);
      // Consecutive windows share one token: the last target of i is the first input of i + 1.
      if (i + 1 < a.num_samples()) REQUIRE(wa.targets.back() == window(a, i + 1).inputs.front());
    }
  }
}

TEST_CASE("window dataset errors name the sizes", "[data][window]") {
  REQUIRE_THROWS_WITH(
      WindowDataset(train(TokenFormat::npy), {2000, true, 1}),
      Contains("[window]") && Contains("2000 tokens") && Contains("too short for one window of seq_len + 1 = 2001"));
  REQUIRE_THROWS_WITH(WindowDataset(train(TokenFormat::npy), {0, true, 1}), Contains("seq_len must be >= 1; got 0"));
  WindowDataset ds(train(TokenFormat::npy), {16, true, 1});
  std::vector<int32_t> a(16), b(16);
  std::vector<float> m(16);
  REQUIRE_THROWS_WITH(ds.get(124, a.data(), b.data(), m.data()),
                      Contains("sample 124 is out of range: the dataset has 124 samples of seq_len 16"));
}
