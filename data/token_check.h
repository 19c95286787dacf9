// The vocabulary check at start-up: every token id of a split must lie in [0, vocab_size). Reading a
// 767 GB split on every start of every rank is what the cache avoids: after a file has been read in full,
// a small JSON file records its size, modification time (ns), token count and the smallest and largest
// id found. A later check of a file with the same size and mtime whose recorded ids fit the vocabulary
// does not read the file. No cache is written for a file modified less than 2 s before the check: file
// times advance in steps of a few milliseconds, so a rewrite right after could keep the recorded mtime.
//
// Where the cache lives: "<file>.tokcheck.json" beside the token file (so every run on that data shares
// it); when that cannot be written (a read-only data folder), in `fallback_dir` (training passes
// <run_dir>/tokcheck) as "<absolute path of the file, '/' written %2F>.tokcheck.json". Both places are
// looked up. A cache that is missing, unreadable, or does not match the file is ignored; caches are
// written under a unique temporary name and renamed, so ranks checking at once never see a partial one.
#pragma once

#include <cstdint>
#include <string>

#include "data/token_source.h"

namespace tttlm::data {

struct TokenCheckOptions {
  bool use_cache = true;
  std::string fallback_dir;  // empty: caches are written beside the files only
};

struct TokenCheckStats {
  uint64_t files_read = 0;    // files whose ids were read
  uint64_t files_cached = 0;  // files skipped thanks to a matching cache
  uint64_t caches_written = 0;
};

// Checks every id of `tokens`; throws InvalidArgument naming the file and position of the first id outside
// [0, vocab_size). A source without files (file_spans() empty) is read in full, without a cache.
TokenCheckStats check_token_ids(const TokenSource& tokens, int64_t vocab_size, const TokenCheckOptions& options = {});

// The cache path beside `file` ("<file>.tokcheck.json") and the one in fallback_dir.
std::string token_check_cache_path(const std::string& file);
std::string token_check_fallback_path(const std::string& file, const std::string& fallback_dir);

}  // namespace tttlm::data
