// Fuzzes the .npy reader: the input is a whole .npy file. It goes to parse_npy_header (in memory), then,
// written to a file, to read_npy (small arrays) and NpyTokenFile (the memory-mapped token reader), which
// reads its first and last tokens. Failure: any crash, sanitizer report or exception other than tttlm::Error.
#include <algorithm>

#include "data/npy.h"
#include "data/token_source.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  fuzz::expect_clean_errors([&] { data::parse_npy_header(data, size, "fuzz.npy"); });
  const std::string path = fuzz::write_temp("fuzz.npy", {reinterpret_cast<const char*>(data), size});
  fuzz::expect_clean_errors([&] {
    Tensor t = data::read_npy(path);
    (void)t.numel();
  });
  fuzz::expect_clean_errors([&] {
    data::NpyTokenFile tokens(path);
    (void)tokens.describe();
    const uint64_t n = std::min<uint64_t>(tokens.size(), 4096);
    std::vector<int32_t> out(n + 1);
    tokens.read(0, n, out.data());
    if (tokens.size() > 0) {
      tokens.read(tokens.size() - 1, 1, out.data());
      (void)tokens.locate(tokens.size() - 1);
    }
  });
  return 0;
}
