// check_token_ids: a chunked scan of each file of a stream, skipped where a cache matches the file.
#include "data/token_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"

namespace tttlm::data {

namespace fs = std::filesystem;

namespace {

struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

bool stamp_of(const std::string& path, FileStamp& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return true;
}

constexpr int64_t kRacyNs = 2'000'000'000;

int64_t now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct CacheEntry {
  FileStamp stamp;
  uint64_t tokens = 0;
  int64_t min_id = 0, max_id = -1;  // max < min: no tokens
};

bool read_cache(const std::string& path, CacheEntry& e) {
  std::ifstream in(path);
  if (!in.good()) return false;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    e.stamp.size = j.at("size").get<uint64_t>();
    e.stamp.mtime_ns = j.at("mtime_ns").get<int64_t>();
    e.tokens = j.at("tokens").get<uint64_t>();
    e.min_id = j.at("min_id").get<int64_t>();
    e.max_id = j.at("max_id").get<int64_t>();
    return true;
  } catch (const std::exception&) {
    return false;  // a damaged cache means nothing; the file is read again
  }
}

// Best effort: false when the cache cannot be written there.
bool write_cache(const std::string& path, const CacheEntry& e) {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  const std::string tmp = path + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out.good()) return false;
    nlohmann::json j = {{"size", e.stamp.size},
                        {"mtime_ns", e.stamp.mtime_ns},
                        {"tokens", e.tokens},
                        {"min_id", e.min_id},
                        {"max_id", e.max_id}};
    out << j.dump() << "\n";
    out.close();
    if (!out.good()) {
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (!ec) return true;
  fs::remove(tmp, ec);
  return false;
}

// Reads tokens [first, first + count) in chunks; returns the smallest and largest id, throws at the first
// id outside [0, vocab_size).
void scan(const TokenSource& tokens, uint64_t first, uint64_t count, int64_t vocab_size, CacheEntry& e) {
  constexpr uint64_t kChunk = 1 << 20;
  std::vector<int32_t> buf(std::min(kChunk, std::max<uint64_t>(count, 1)));
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (uint64_t start = first; start < first + count; start += kChunk) {
    uint64_t n = std::min(kChunk, first + count - start);
    tokens.read(start, n, buf.data());
    // Branch-free scan of the chunk first; locate the offender only on failure.
    bool bad = false;
    for (uint64_t i = 0; i < n; ++i) {
      bad |= buf[i] < 0 || buf[i] >= vocab_size;
      lo = std::min(lo, buf[i]);
      hi = std::max(hi, buf[i]);
    }
    if (!bad) continue;
    for (uint64_t i = 0; i < n; ++i) {
      if (buf[i] >= 0 && buf[i] < vocab_size) continue;
      throw InvalidArgument("[tokens] token id " + std::to_string(buf[i]) + " at position " +
                            std::to_string(start + i) + " of the stream (" + tokens.locate(start + i) +
                            ") is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
  }
  e.tokens = count;
  e.min_id = count ? lo : 0;
  e.max_id = count ? hi : -1;
}

}  // namespace

std::string token_check_cache_path(const std::string& file) { return file + ".tokcheck.json"; }

std::string token_check_fallback_path(const std::string& file, const std::string& fallback_dir) {
  std::string abs = fs::absolute(file).lexically_normal().string(), name;
  for (char c : abs) name += c == '%' ? std::string("%25") : c == '/' ? std::string("%2F") : std::string(1, c);
  return (fs::path(fallback_dir) / (name + ".tokcheck.json")).string();
}

TokenCheckStats check_token_ids(const TokenSource& tokens, int64_t vocab_size, const TokenCheckOptions& options) {
  TTT_CHECK(vocab_size > 0, "[tokens] vocab_size must be positive; got ", vocab_size);
  TokenCheckStats stats;
  std::vector<TokenFileSpan> spans = tokens.file_spans();
  if (spans.empty()) {
    CacheEntry e;
    scan(tokens, 0, tokens.size(), vocab_size, e);
    stats.files_read = 1;
    return stats;
  }
  for (const auto& span : spans) {
    FileStamp before;
    const bool cacheable = options.use_cache && stamp_of(span.path, before);
    const std::string beside = token_check_cache_path(span.path);
    const std::string fallback =
        options.fallback_dir.empty() ? std::string() : token_check_fallback_path(span.path, options.fallback_dir);
    if (cacheable) {
      bool hit = false;
      for (const std::string& p : {beside, fallback}) {
        CacheEntry e;
        if (p.empty() || !read_cache(p, e)) continue;
        hit = e.stamp.size == before.size && e.stamp.mtime_ns == before.mtime_ns && e.tokens == span.count &&
              (e.tokens == 0 || (e.min_id >= 0 && e.max_id < vocab_size));
        if (hit) break;
      }
      if (hit) {
        ++stats.files_cached;
        continue;
      }
    }
    CacheEntry e;
    scan(tokens, span.first, span.count, vocab_size, e);
    ++stats.files_read;
    FileStamp after;
    // Record only what was read from an unchanged file (the reads also refuse a changed file), and not
    // for a file modified in the last kRacyNs: file times advance in coarse steps (a few ms), so a rewrite
    // that soon could keep the recorded mtime.
    if (!cacheable || !stamp_of(span.path, after) || after.size != before.size || after.mtime_ns != before.mtime_ns ||
        before.mtime_ns > now_ns() - kRacyNs)
      continue;
    e.stamp = before;
    bool written = write_cache(beside, e);
    if (!written && !fallback.empty()) {
      std::error_code ec;
      fs::create_directories(fs::path(fallback).parent_path(), ec);
      written = write_cache(fallback, e);
    }
    stats.caches_written += written ? 1 : 0;
  }
  return stats;
}

}  // namespace tttlm::data
