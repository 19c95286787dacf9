// Token streams: the official .npy folder and llm.c .bin shards written by numpy from the same tokens
// must read identically; broken shards, bad splits and out-of-vocabulary ids fail with clear messages.
#include <catch2/catch.hpp>

#include "data/token_check.h"
#include "data/token_source.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {

std::vector<int32_t> read_all(const TokenSource& src) {
  std::vector<int32_t> out(src.size());
  src.read(0, src.size(), out.data());
  return out;
}

std::vector<int32_t> npy_values(const std::string& path) {
  auto v = read_npy(path).to_vector<int64_t>();
  return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("token sources: the npy folder and the bin shards hold the same stream", "[data][tokens]") {
  auto npy = open_split(TokenFormat::npy, fixture("tokens/npy"), "train");
  auto bin = open_split(TokenFormat::bin, fixture("tokens/bin"), "train");
  auto i32 = open_split(TokenFormat::npy, fixture("tokens/i32"), "train");
  REQUIRE(npy->size() == 2000);
  REQUIRE(bin->size() == 2000);
  REQUIRE(dynamic_cast<const BinShards&>(*bin).num_shards() == 2);
  REQUIRE(dynamic_cast<const NpyTokenFile&>(*i32).header().dtype == Dtype::i32);
  auto want = npy_values(fixture("tokens/npy/train.npy"));  // read through ifstream, not the mapping
  REQUIRE(read_all(*npy) == want);
  REQUIRE(read_all(*bin) == want);
  REQUIRE(read_all(*i32) == want);
  REQUIRE(want.front() == 1);  // documents start with BOS

  // Reads that straddle the shard boundary at token 1234, and single tokens on both sides of it.
  for (uint64_t offset : {0, 1000, 1225, 1233, 1234, 1990}) {
    uint64_t n = std::min<uint64_t>(10, 2000 - offset);
    std::vector<int32_t> a(n), b(n);
    npy->read(offset, n, a.data());
    bin->read(offset, n, b.data());
    REQUIRE(a == b);
    REQUIRE(a == std::vector<int32_t>(want.begin() + offset, want.begin() + offset + n));
  }

  auto val_npy = open_split(TokenFormat::npy, fixture("tokens/npy"), "validation");
  auto val_bin = open_split(TokenFormat::bin, fixture("tokens/bin"), "validation");
  auto nested = open_split(TokenFormat::npy, fixture("tokens/nested"), "validation");
  REQUIRE(val_npy->size() == 500);
  REQUIRE(read_all(*val_bin) == read_all(*val_npy));
  REQUIRE(read_all(*nested) == read_all(*val_npy));
  REQUIRE_THAT(bin->describe(), Contains("tok_train_000000.bin and 1 more shards (2000 tokens)"));
  REQUIRE_THAT(bin->locate(1240), Contains("tok_train_000001.bin token 6 (byte offset 1036)"));
}

TEST_CASE("token sources reject reads past the end", "[data][tokens]") {
  NpyTokenFile npy(fixture("tokens/npy/train.npy"));
  std::vector<int32_t> buf(16);
  REQUIRE_THROWS_WITH(npy.read(1995, 10, buf.data()),
                      Contains("[tokens] read of 10 tokens at offset 1995 passes the end") && Contains("2000 tokens"));
  BinShards bin(list_bin_shards(fixture("tokens/bin/tok_train_*.bin")));
  REQUIRE_THROWS_AS(bin.read(2000, 1, buf.data()), InvalidArgument);
  REQUIRE_NOTHROW(bin.read(2000, 0, buf.data()));
}

TEST_CASE("bin shards with a wrong magic, version or size fail naming the file", "[data][tokens]") {
  auto open = [](const std::string& name) { return BinShards({fixture("tokens/bad/" + name)}); };
  REQUIRE_THROWS_WITH(open("magic.bin"), Contains("magic.bin: byte offset 0: expected magic 20240520; found 20240521"));
  REQUIRE_THROWS_WITH(open("llama3.bin"), Contains("found 20240801") && Contains("uint32"));
  REQUIRE_THROWS_WITH(open("version.bin"), Contains("version.bin: byte offset 4: expected version 1; found 2"));
  REQUIRE_THROWS_WITH(open("size.bin"), Contains("size.bin: expected file size 1024 + 2*21 = 1066 bytes") &&
                                            Contains("found 1064 bytes"));
  REQUIRE_THROWS_WITH(open("short.bin"),
                      Contains("short.bin: truncated: a shard starts with a 1024-byte header; found a file of 700"));
  // A bad shard among good ones is named.
  REQUIRE_THROWS_WITH(BinShards({fixture("tokens/bin/tok_train_000000.bin"), fixture("tokens/bad/version.bin")}),
                      Contains("bad/version.bin"));
  REQUIRE_THROWS_WITH(BinShards({}), Contains("at least one .bin shard"));
}

TEST_CASE("split discovery finds the nested official directory and refuses ambiguity", "[data][tokens]") {
  std::string nested = find_npy_split(fixture("tokens/nested"), "validation");
  REQUIRE_THAT(nested, Contains("tokenizer_name-meta-llama/Llama-2-7b-hf-val_ratio-0.0005-val_split_seed-2357"));
  REQUIRE(find_npy_split(fixture("tokens/npy"), "train") == fixture("tokens/npy/train.npy"));
  REQUIRE(find_npy_split(fixture("tokens/npy/validation.npy"), "train") == fixture("tokens/npy/validation.npy"));
  // tokens/npy/train.npy and tokens/i32/train.npy are both one level below tokens/.
  REQUIRE_THROWS_WITH(find_npy_split(fixture("tokens"), "train"),
                      Contains("2 candidates for train.npy") && Contains("i32/train.npy") && Contains("npy/train.npy"));
  REQUIRE_THROWS_WITH(find_npy_split(fixture("tokens/npy"), "test"), Contains("no test.npy in"));
  REQUIRE_THROWS_WITH(find_npy_split(fixture("tokens/npy"), "dev"), Contains("unknown split 'dev'"));
  REQUIRE_THROWS_WITH(open_split(TokenFormat::bin, fixture("tokens/bin"), "test"),
                      Contains("no .bin shards match") && Contains("*_test_*.bin"));
  REQUIRE(list_bin_shards(fixture("tokens/bin")).size() == 3);  // a directory: every .bin, sorted
  REQUIRE_THAT(list_bin_shards(fixture("tokens/bin")).back(), Contains("tok_val_000000.bin"));
  REQUIRE_THROWS_WITH(token_format_from_name("parquet"),
                      Contains("unknown token format 'parquet'; expected npy or bin"));
}

TEST_CASE("npy token files must be 1-D uint16 or int32", "[data][tokens]") {
  REQUIRE_THROWS_WITH(NpyTokenFile(fixture("npy/i32_2x7.npy")),
                      Contains("i32_2x7.npy: expected a 1-D array of '<u2' or '<i4' token ids; found shape (2, 7)"));
  REQUIRE_THROWS_WITH(NpyTokenFile(fixture("npy/f64_4.npy")), Contains("of '<f8'"));
  REQUIRE_THROWS_WITH(NpyTokenFile(fixture("npy/bad_truncated_data.npy")), Contains("truncated data"));
  REQUIRE_THROWS_AS(NpyTokenFile("/nonexistent/train.npy"), RuntimeError);
  REQUIRE_THROWS_WITH(NpyTokenFile("/nonexistent/train.npy"), Contains("[mmap] cannot open /nonexistent/train.npy"));
}

TEST_CASE("check_token_ids names the file and position of the first id outside the vocabulary", "[data][tokens]") {
  auto want = npy_values(fixture("tokens/npy/train.npy"));
  auto first_bad =
      static_cast<uint64_t>(std::find_if(want.begin(), want.end(), [](int32_t t) { return t >= 500; }) - want.begin());
  // No cache: these reads must happen, and nothing is written beside the fixtures (test_token_check.cpp
  // covers the cache).
  const TokenCheckOptions no_cache{false, ""};
  auto npy = open_split(TokenFormat::npy, fixture("tokens/npy"), "train");
  auto bin = open_split(TokenFormat::bin, fixture("tokens/bin"), "train");
  REQUIRE_NOTHROW(check_token_ids(*npy, 1000, no_cache));
  REQUIRE_NOTHROW(check_token_ids(*bin, 1000, no_cache));
  REQUIRE_THROWS_WITH(
      check_token_ids(*npy, 500, no_cache),
      Contains("token id " + std::to_string(want[first_bad]) + " at position " + std::to_string(first_bad)) &&
          Contains("train.npy token " + std::to_string(first_bad)) && Contains("outside the vocabulary [0, 500)"));
  // An id only in the second shard: the largest id of the stream, first seen after token 1234?
  int32_t max_id = *std::max_element(want.begin(), want.end());
  auto first_max = static_cast<uint64_t>(std::find(want.begin(), want.end(), max_id) - want.begin());
  std::string where = first_max >= 1234 ? "tok_train_000001.bin token " + std::to_string(first_max - 1234)
                                        : "tok_train_000000.bin token " + std::to_string(first_max);
  REQUIRE_THROWS_WITH(check_token_ids(*bin, max_id, no_cache),
                      Contains("at position " + std::to_string(first_max)) && Contains(where));
  REQUIRE_THROWS_WITH(check_token_ids(*bin, 0, no_cache), Contains("vocab_size must be positive"));
}
