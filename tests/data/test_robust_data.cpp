// Token files a user may hand tttlm or change under a running job: .npy headers whose sizes overflow 64
// bits are refused before anything is read; a file truncated, rewritten or replaced after it was mapped is
// reported with a RuntimeError naming it instead of killing the process with SIGBUS.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "data/token_check.h"
#include "data/token_source.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

// A .npy file with the header np.save writes for `shape` of `dtype`, followed by `data_bytes` zero bytes.
std::string npy_with(const TempDir& dir, const std::string& name, Dtype dtype, const Shape& shape, size_t data_bytes) {
  std::string bytes = npy_header_bytes(dtype, shape);
  bytes.append(data_bytes, '\0');
  test::write_bytes(dir / name, bytes);
  return dir / name;
}

std::vector<uint16_t> ramp(size_t n) {
  std::vector<uint16_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint16_t>(i % 1000);
  return v;
}

}  // namespace

TEST_CASE("npy: a shape whose byte size overflows 64 bits is refused before any read", "[data][robust]") {
  TempDir dir;
  // (2**62 - 1,) of '<i4': 4 * (2^62 - 1) + 128 wraps to 124, which a 192-byte file "holds".
  const std::string wrap = npy_with(dir, "wrap.npy", Dtype::i32, {(int64_t{1} << 62) - 1}, 64);
  for (auto open :
       {+[](const std::string& p) { NpyTokenFile f(p); }, +[](const std::string& p) { read_npy_header(p); }})
    REQUIRE_THROWS_WITH(open(wrap), Contains(wrap) && Contains("field 'shape'") && Contains("(4611686018427387903,)") &&
                                        Contains("'<i4'") && Contains("64-bit"));
  // The size check alone, for a header a caller built: the sum is checked as well.
  NpyHeader h;
  h.descr = "<i4";
  h.dtype = Dtype::i32;
  h.shape = {(uint64_t{1} << 62) - 1};
  h.data_offset = 128;
  REQUIRE_THROWS_WITH(check_npy_file_size(h, 192, "h.npy"),
                      Contains("h.npy") && Contains("field 'shape'") && Contains("found a file of 192 bytes"));
  h.shape = {4};
  REQUIRE_NOTHROW(check_npy_file_size(h, 144, "h.npy"));
  REQUIRE_THROWS_WITH(check_npy_file_size(h, 143, "h.npy"), Contains("needs a file of 144 bytes"));
  // Products over 2^64 are refused; a zero dimension makes the array empty whatever the others are.
  const std::string big = npy_with(dir, "big.npy", Dtype::u16, {int64_t{1} << 32, int64_t{1} << 32}, 0);
  REQUIRE_THROWS_WITH(read_npy_header(big), Contains("field 'shape'") && Contains("(4294967296, 4294967296)"));
  const std::string empty = npy_with(dir, "empty.npy", Dtype::u16, {0, int64_t{1} << 40, int64_t{1} << 40}, 0);
  NpyHeader e = read_npy_header(empty);
  REQUIRE(e.numel() == 0);
  REQUIRE(e.data_bytes() == 0);
  // As a tensor it is refused as numpy refuses it: the strides would overflow int64 (undefined behaviour in
  // Tensor::empty before this check). An empty array whose other dimensions fit is read.
  REQUIRE_THROWS_AS(read_npy(empty), InvalidArgument);
  REQUIRE_THROWS_WITH(read_npy(empty), Contains(empty) && Contains("field 'shape'") && Contains("non-zero dimensions"));
  const std::string small_empty = npy_with(dir, "small_empty.npy", Dtype::u16, {3, 0, 5}, 0);
  REQUIRE(read_npy(small_empty).numel() == 0);
}

TEST_CASE("bin: shard token counts are checked against the file size", "[data][robust]") {
  TempDir dir;
  // INT32_MAX tokens claimed by a 1024 + 8 byte file: refused with the expected and the found size.
  test::write_bytes(dir / "x_train_000000.bin", bin_header_bytes(INT32_MAX) + std::string(8, '\0'));
  REQUIRE_THROWS_WITH(BinShards({dir / "x_train_000000.bin"}),
                      Contains("x_train_000000.bin") && Contains("4294968318 bytes") && Contains("found 1032 bytes"));
}

TEST_CASE("a token file truncated after it was mapped is reported, not a SIGBUS", "[data][robust]") {
  TempDir dir;
  const auto tokens = ramp(5000);  // 10000 data bytes: the mapping spans 3 pages
  write_npy(dir / "train.npy", tokens.data(), Dtype::u16, {5000});
  NpyTokenFile f(dir / "train.npy");
  std::vector<int32_t> out(10);
  f.read(4000, 10, out.data());
  REQUIRE(out[0] == 0);  // 4000 % 1000
  REQUIRE(out[9] == 9);
  fs::resize_file(dir / "train.npy", 200);  // in place: same inode, like `cp small.npy train.npy`
  REQUIRE_THROWS_AS(f.read(4000, 10, out.data()), RuntimeError);
  REQUIRE_THROWS_WITH(f.read(4000, 10, out.data()), Contains(dir / "train.npy") &&
                                                        Contains("size expected 10128 bytes") &&
                                                        Contains("found 200 bytes"));
  REQUIRE_THROWS_WITH(check_token_ids(f, 1000), Contains(dir / "train.npy"));
}

TEST_CASE("a token file rewritten in place or replaced after it was mapped is reported", "[data][robust]") {
  TempDir dir;
  const auto tokens = ramp(3000);
  write_npy(dir / "a.npy", tokens.data(), Dtype::u16, {3000});
  {
    NpyTokenFile f(dir / "a.npy");
    // Same size, new contents, a later mtime (set explicitly: file systems with coarse clocks).
    const auto t = fs::last_write_time(dir / "a.npy");
    test::write_bytes(dir / "a.npy", test::read_bytes(dir / "a.npy"));
    fs::last_write_time(dir / "a.npy", t + std::chrono::seconds(5));
    std::vector<int32_t> out(4);
    REQUIRE_THROWS_WITH(f.read(0, 4, out.data()), Contains(dir / "a.npy") && Contains("mtime expected"));
  }
  {
    NpyTokenFile f(dir / "a.npy");
    write_npy(dir / "b.npy", tokens.data(), Dtype::u16, {3000});
    fs::rename(dir / "b.npy", dir / "a.npy");  // another inode under the same name
    std::vector<int32_t> out(4);
    REQUIRE_THROWS_WITH(f.read(0, 4, out.data()), Contains(dir / "a.npy") && Contains("device:inode expected"));
  }
  {
    NpyTokenFile f(dir / "a.npy");
    fs::remove(dir / "a.npy");
    std::vector<int32_t> out(4);
    REQUIRE_THROWS_WITH(f.read(0, 4, out.data()), Contains(dir / "a.npy") && Contains("cannot stat"));
  }
}

TEST_CASE("a .bin shard truncated after it was mapped is reported naming that shard", "[data][robust]") {
  TempDir dir;
  const auto tokens = ramp(4000);
  for (int s = 0; s < 2; ++s) {
    std::string bytes = bin_header_bytes(4000);
    bytes.append(reinterpret_cast<const char*>(tokens.data()), 8000);
    test::write_bytes(dir / ("t_train_00000" + std::to_string(s) + ".bin"), bytes);
  }
  BinShards shards({dir / "t_train_000000.bin", dir / "t_train_000001.bin"});
  std::vector<int32_t> out(20);
  shards.read(3990, 20, out.data());  // across the boundary
  REQUIRE(out[0] == 990);
  REQUIRE(out[10] == 0);
  fs::resize_file(dir / "t_train_000001.bin", 1024);
  shards.read(100, 20, out.data());  // the first shard is untouched
  REQUIRE(out[0] == 100);
  REQUIRE_THROWS_WITH(shards.read(3990, 20, out.data()), Contains(dir / "t_train_000001.bin") &&
                                                             Contains("size expected 9024 bytes") &&
                                                             Contains("found 1024 bytes"));
}
