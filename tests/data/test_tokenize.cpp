// tokenize_files: both output formats hold the same tokens, each document is [BOS] ids [EOS] and decodes
// back to its file, the validation split is deterministic, and errors are clear.
#include <catch2/catch.hpp>
#include <filesystem>

#include "data/token_source.h"
#include "data/tokenize.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {

const std::vector<std::string> kTexts = {"macbeth_gut.txt", "comedy_of_errors_gut.txt", "lovers_complaint_gut.txt",
                                         "passionate_pilgrim_gut.txt", "phoenix_and_the_turtle_gut.txt"};

std::vector<std::string> inputs() {
  std::vector<std::string> out;
  for (const auto& t : kTexts) out.push_back(fixture("text/" + t));
  return out;
}

std::vector<int32_t> read_all(const TokenSource& src) {
  std::vector<int32_t> out(src.size());
  src.read(0, src.size(), out.data());
  return out;
}

}  // namespace

TEST_CASE("tokenize writes npy and bin with identical tokens, one [BOS] ids [EOS] per file", "[data][tokenize]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  auto files = inputs();
  test::write_bytes(tmp / "empty.txt", "");
  files.insert(files.begin() + 2, tmp / "empty.txt");  // an empty document becomes [BOS] alone
  TokenizeOptions opt;
  opt.val_fraction = 0.2;  // ceil(0.2 * 6) = 2 documents
  opt.shard_tokens = 20000;
  opt.num_threads = 3;
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  opt.progress = [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); };
  TokenizeResult r = tokenize_files(tok, files, tmp / "out", opt);

  const std::vector<uint64_t> val_docs = pick_validation_docs(files.size(), 0.2, opt.seed);
  REQUIRE(val_docs.size() == 2);
  REQUIRE(r.val_docs == 2);
  REQUIRE(r.num_docs == files.size());
  auto train_npy = open_split(TokenFormat::npy, tmp / "out", "train");
  auto train_bin = open_split(TokenFormat::bin, tmp / "out", "train");
  auto val_npy = open_split(TokenFormat::npy, tmp / "out", "validation");
  auto val_bin = open_split(TokenFormat::bin, tmp / "out", "validation");
  REQUIRE(dynamic_cast<const NpyTokenFile&>(*train_npy).header().dtype == Dtype::u16);
  REQUIRE(dynamic_cast<const BinShards&>(*train_bin).num_shards() == (r.train_tokens + 19999) / 20000);
  REQUIRE(dynamic_cast<const BinShards&>(*train_bin).num_shards() >= 2);
  auto train = read_all(*train_npy), val = read_all(*val_npy);
  REQUIRE(train.size() == r.train_tokens);
  REQUIRE(val.size() == r.val_tokens);
  REQUIRE(read_all(*train_bin) == train);
  REQUIRE(read_all(*val_bin) == val);
  REQUIRE(test::read_bytes(tmp / "out/test.npy") == test::read_bytes(tmp / "out/validation.npy"));
  REQUIRE(r.files.size() == 3 + dynamic_cast<const BinShards&>(*train_bin).num_shards() +
                                dynamic_cast<const BinShards&>(*val_bin).num_shards());

  // Split each stream at BOS (encode never emits it) and compare with the files, in input order.
  size_t train_pos = 0, val_pos = 0;
  for (size_t d = 0; d < files.size(); ++d) {
    INFO("document " << files[d]);
    bool is_val = std::find(val_docs.begin(), val_docs.end(), d) != val_docs.end();
    auto& stream = is_val ? val : train;
    size_t& pos = is_val ? val_pos : train_pos;
    std::string text = test::read_bytes(files[d]);
    std::vector<int32_t> ids = tok.encode(text);
    REQUIRE(stream[pos] == 1);
    REQUIRE(std::vector<int32_t>(stream.begin() + pos + 1, stream.begin() + pos + 1 + ids.size()) == ids);
    pos += 1 + ids.size();
    if (!text.empty()) REQUIRE(stream[pos++] == 2);
    REQUIRE(tok.decode(ids) == text);
  }
  REQUIRE(train_pos == train.size());
  REQUIRE(val_pos == val.size());

  uint64_t total = 0;
  for (const auto& f : files) total += std::filesystem::file_size(f);
  REQUIRE(progress.size() == files.size());
  for (size_t i = 0; i + 1 < progress.size(); ++i) REQUIRE(progress[i].first <= progress[i + 1].first);
  REQUIRE(progress.back() == std::make_pair(total, total));
}

TEST_CASE("tokenize output and validation split do not depend on threads or runs", "[data][tokenize]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  TokenizeOptions opt;
  opt.val_fraction = 0.2;
  opt.write_bin = false;
  opt.num_threads = 1;
  TokenizeResult a = tokenize_files(tok, inputs(), tmp / "a", opt);
  opt.num_threads = 4;
  TokenizeResult b = tokenize_files(tok, inputs(), tmp / "b", opt);
  REQUIRE(a.val_docs == 1);
  REQUIRE(b.val_docs == 1);
  REQUIRE(test::read_bytes(tmp / "a/train.npy") == test::read_bytes(tmp / "b/train.npy"));
  REQUIRE(test::read_bytes(tmp / "a/validation.npy") == test::read_bytes(tmp / "b/validation.npy"));
  REQUIRE(!std::filesystem::exists(tmp / "a/tttlm_train_000000.bin"));

  // pick_validation_docs (the streaming rule of ValidationSplit): sorted, in range, exactly
  // ceil(fraction * n), deterministic, seed-dependent.
  auto p1 = pick_validation_docs(100, 0.1, 1), p2 = pick_validation_docs(100, 0.1, 2);
  REQUIRE(p1.size() == 10);
  REQUIRE(p1 == pick_validation_docs(100, 0.1, 1));
  REQUIRE(p1 != p2);
  REQUIRE(std::is_sorted(p1.begin(), p1.end()));
  REQUIRE(std::adjacent_find(p1.begin(), p1.end()) == p1.end());
  REQUIRE(p1.back() < 100);
  REQUIRE(pick_validation_docs(100, 0.001, 1).size() == 1);
  REQUIRE(pick_validation_docs(100, 0.0, 1).empty());
  for (uint64_t seed = 0; seed < 50; ++seed) {  // the count is exact for every seed, not only on average
    REQUIRE(pick_validation_docs(1000, 0.05, seed).size() == 50);
    REQUIRE(pick_validation_docs(7, 0.5, seed).size() == 4);
  }
  // At least one training document always remains, else an error before anything is read.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    REQUIRE(pick_validation_docs(2, 0.5, seed).size() == 1);
    REQUIRE(pick_validation_docs(10, 0.85, seed).size() == 9);
  }
  REQUIRE_THROWS_WITH(pick_validation_docs(1, 0.5, 0), Contains("leaves no training document"));
  REQUIRE_THROWS_WITH(pick_validation_docs(10, 0.95, 0), Contains("of 10 documents holds out 10"));
  // ValidationSplit decides document by document with O(1) state; it agrees with pick_validation_docs.
  ValidationSplit split(1000, 0.05, 7);
  std::vector<uint64_t> streamed;
  for (uint64_t i = 0; i < 1000; ++i)
    if (split.held_out(i)) streamed.push_back(i);
  REQUIRE(streamed == pick_validation_docs(1000, 0.05, 7));
  // Over many seeds every document is held out sometimes: the pick is not biased to one end.
  std::vector<int> hits(10, 0);
  for (uint64_t seed = 0; seed < 400; ++seed) hits[pick_validation_docs(10, 0.1, seed)[0]]++;
  for (int h : hits) REQUIRE(h > 15);
}

TEST_CASE("tokenize removes stale shards of an earlier run with the same prefix", "[data][tokenize]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  std::filesystem::create_directories(tmp / "out");
  test::write_bytes(tmp / "out/tttlm_train_000007.bin", "stale");
  test::write_bytes(tmp / "out/other_train_000007.bin", "not ours");
  TokenizeOptions opt;
  opt.val_fraction = 0.0;
  opt.write_npy = false;
  TokenizeResult r = tokenize_files(tok, {fixture("text/phoenix_and_the_turtle_gut.txt")}, tmp / "out", opt);
  REQUIRE(r.val_tokens == 0);
  REQUIRE(r.files == std::vector<std::string>{tmp / "out/tttlm_train_000000.bin"});
  REQUIRE(!std::filesystem::exists(tmp / "out/tttlm_train_000007.bin"));
  REQUIRE(std::filesystem::exists(tmp / "out/other_train_000007.bin"));
  REQUIRE(!std::filesystem::exists(tmp / "out/train.npy"));
  // A directory means every *_train_*.bin in it, so name the prefix when other shards share the folder.
  REQUIRE(open_split(TokenFormat::bin, tmp / "out/tttlm_train_*.bin", "train")->size() == r.train_tokens);
}

TEST_CASE("tokenize errors are clear", "[data][tokenize]") {
  test::TempDir tmp;
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  TokenizeOptions opt;
  opt.val_fraction = 0.9;
  REQUIRE_THROWS_WITH(
      tokenize_files(tok, inputs(), tmp / "o", opt),
      Contains("[tokenize] val_fraction 0.9 of 5 documents holds out 5 and leaves no training document"));
  opt.val_fraction = 1.0;
  REQUIRE_THROWS_WITH(tokenize_files(tok, inputs(), tmp / "o", opt), Contains("val_fraction must be in [0, 1)"));
  opt.val_fraction = 0.0;
  opt.write_npy = opt.write_bin = false;
  REQUIRE_THROWS_WITH(tokenize_files(tok, inputs(), tmp / "o", opt), Contains("no output format selected"));
  opt.write_npy = true;
  REQUIRE_THROWS_WITH(tokenize_files(tok, {tmp / "missing.txt"}, tmp / "o", opt),
                      Contains("cannot read the input") && Contains("missing.txt"));
  REQUIRE_THROWS_WITH(tokenize_files(tok, {}, tmp / "o", opt), Contains("expected at least one input file"));
}
