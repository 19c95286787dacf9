// check_token_ids with its per-file cache: a second check of an unchanged file does not read it (shown by
// damaging the content while keeping size and mtime), a changed mtime or a smaller vocabulary reads it
// again, and a cache that cannot be written beside the file goes to the fallback folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/npy.h"
#include "data/token_check.h"
#include "data/token_source.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// Overwrites the uint16 token at `index` of a file whose ids start at byte `offset`, keeping the size and
// (with keep_mtime) the modification time: a change the cache cannot see.
void poke_u16(const std::string& path, uint64_t offset, uint64_t index, uint16_t value, bool keep_mtime) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset + 2 * index));
    f.write(reinterpret_cast<const char*>(&value), 2);
  }
  if (keep_mtime) {
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  }
}

// Sets the modification time to `seconds_ago` before now (caches are written only for files older than 2 s).
void age(const std::string& path, int seconds_ago = 3600) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  struct timespec times[2] = {now, now};
  times[1].tv_sec -= seconds_ago;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

void bump_mtime(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += 5;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

void write_ids_npy(const std::string& path, uint64_t n) {
  std::vector<uint16_t> ids(n);
  for (uint64_t i = 0; i < n; ++i) ids[i] = static_cast<uint16_t>((i * 37) % 1000);
  write_npy(path, ids.data(), Dtype::u16, {static_cast<int64_t>(n)});
}

void write_ids_bin(const std::string& path, uint64_t n, uint16_t top) {
  std::string bytes = bin_header_bytes(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint16_t v = static_cast<uint16_t>(i % (top + 1u));
    bytes.append(reinterpret_cast<const char*>(&v), 2);
  }
  test::write_bytes(path, bytes);
}

}  // namespace

TEST_CASE("the token-id check is cached per file by size and mtime", "[data][tokcheck]") {
  test::TempDir tmp;
  const std::string npy = tmp / "train.npy";
  write_ids_npy(npy, 5000);
  const uint64_t data_offset = read_npy_header(npy).data_offset;
  // A file written just now is read but not cached: its mtime could survive a rewrite in the same tick.
  TokenCheckStats fresh = check_token_ids(NpyTokenFile(npy), 1000);
  REQUIRE(fresh.files_read == 1);
  REQUIRE(fresh.caches_written == 0);
  age(npy);

  TokenCheckStats s = check_token_ids(NpyTokenFile(npy), 1000);
  REQUIRE(s.files_read == 1);
  REQUIRE(s.caches_written == 1);
  REQUIRE(fs::exists(npy + ".tokcheck.json"));
  s = check_token_ids(NpyTokenFile(npy), 1000);
  REQUIRE(s.files_read == 0);
  REQUIRE(s.files_cached == 1);

  // An out-of-vocabulary id written without changing size or mtime goes unseen: the file was not read.
  poke_u16(npy, data_offset, 4321, 5000, /*keep_mtime=*/true);
  s = check_token_ids(NpyTokenFile(npy), 1000);
  REQUIRE(s.files_cached == 1);
  // Without the cache, or with a vocabulary below the recorded largest id + 1, the file is read.
  TokenCheckOptions no_cache;
  no_cache.use_cache = false;
  REQUIRE_THROWS_WITH(check_token_ids(NpyTokenFile(npy), 1000, no_cache), Contains("token id 5000 at position 4321"));
  REQUIRE_THROWS_WITH(check_token_ids(NpyTokenFile(npy), 999), Contains("token id 999 at position"));
  // A new mtime invalidates the cache.
  bump_mtime(npy);
  REQUIRE_THROWS_WITH(check_token_ids(NpyTokenFile(npy), 1000),
                      Contains("token id 5000 at position 4321") && Contains(npy));
  // A repaired file is checked once more, then cached again.
  poke_u16(npy, data_offset, 4321, 7, /*keep_mtime=*/false);
  age(npy, 600);
  REQUIRE(check_token_ids(NpyTokenFile(npy), 1000).files_read == 1);
  REQUIRE(check_token_ids(NpyTokenFile(npy), 1000).files_cached == 1);
  // A damaged cache is ignored.
  test::write_bytes(npy + ".tokcheck.json", "{not json");
  REQUIRE(check_token_ids(NpyTokenFile(npy), 1000).files_read == 1);
}

TEST_CASE("the token-id cache is per shard and falls back to another folder", "[data][tokcheck]") {
  test::TempDir tmp;
  fs::create_directories(tmp / "d");
  write_ids_bin(tmp / "d/x_train_000000.bin", 3000, 499);
  write_ids_bin(tmp / "d/x_train_000001.bin", 2000, 999);
  age(tmp / "d/x_train_000000.bin");
  age(tmp / "d/x_train_000001.bin");
  auto shards = [&] { return BinShards({tmp / "d/x_train_000000.bin", tmp / "d/x_train_000001.bin"}); };
  REQUIRE(check_token_ids(shards(), 1000).files_read == 2);
  bump_mtime(tmp / "d/x_train_000001.bin");
  TokenCheckStats s = check_token_ids(shards(), 1000);
  REQUIRE(s.files_read == 1);
  REQUIRE(s.files_cached == 1);
  // Shard 0 holds ids up to 499 only, so its cache serves a vocabulary of 500; shard 1 must be read.
  REQUIRE_THROWS_WITH(check_token_ids(shards(), 500),
                      Contains("token id 500") && Contains("x_train_000001.bin token 500"));

  // The cache cannot be written beside the file (here: a directory in its place; in practice a
  // read-only data folder): it goes to the fallback folder and is found there.
  fs::remove(tmp / "d/x_train_000000.bin.tokcheck.json");
  fs::create_directories(tmp / "d/x_train_000000.bin.tokcheck.json/blocker");
  TokenCheckOptions opt;
  opt.fallback_dir = tmp / "run/tokcheck";
  bump_mtime(tmp / "d/x_train_000000.bin");
  s = check_token_ids(shards(), 1000, opt);
  REQUIRE(s.files_read == 1);
  REQUIRE(s.caches_written == 1);
  REQUIRE(fs::exists(token_check_fallback_path(tmp / "d/x_train_000000.bin", tmp / "run/tokcheck")));
  s = check_token_ids(shards(), 1000, opt);
  REQUIRE(s.files_read == 0);
  REQUIRE(s.files_cached == 2);
  // Without the fallback folder the cache beside is still unusable: the shard is read each time.
  REQUIRE(check_token_ids(shards(), 1000).files_read == 1);
}
