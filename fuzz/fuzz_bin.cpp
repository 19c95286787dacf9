// Fuzzes the llm.c .bin shard reader (BinShards): the input is one shard file. It is opened alone and as
// two shards of one stream (the same file twice), whose tokens are read across the shard boundary and
// located. Failure: any crash, sanitizer report or exception other than tttlm::Error.
#include <algorithm>

#include "data/token_source.h"
#include "fuzz/fuzz_common.h"

namespace {
void read_some(const tttlm::data::TokenSource& tokens) {
  (void)tokens.describe();
  const uint64_t total = tokens.size();
  const uint64_t n = std::min<uint64_t>(total, 4096);
  std::vector<int32_t> out(n + 1);
  tokens.read(0, n, out.data());
  if (total > 0) {
    const uint64_t mid = total / 2, len = std::min<uint64_t>(total - mid, 16);
    tokens.read(mid, len, out.data());
    (void)tokens.locate(mid);
    (void)tokens.locate(total - 1);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  const std::string path = fuzz::write_temp("fuzz_train_000000.bin", {reinterpret_cast<const char*>(data), size});
  fuzz::expect_clean_errors([&] { read_some(data::BinShards({path})); });
  fuzz::expect_clean_errors([&] { read_some(data::BinShards({path, path})); });
  return 0;
}
