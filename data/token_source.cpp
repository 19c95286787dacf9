// Memory-mapped token streams (.npy and llm.c .bin) and split discovery.
#include "data/token_source.h"

#include <glob.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace tttlm::data {

namespace fs = std::filesystem;

namespace {

int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts only (x86-64, aarch64)
  return v;
}

// uint16 -> int32. memcpy loads: an old or hand-made .npy header may leave the data at an odd offset.
void widen_u16(const uint8_t* src, uint64_t n, int32_t* out) {
  for (uint64_t i = 0; i < n; ++i) {
    uint16_t v;
    std::memcpy(&v, src + 2 * i, 2);
    out[i] = v;
  }
}

void check_range(const TokenSource& src, uint64_t offset, uint64_t n) {
  TTT_CHECK(offset <= src.size() && n <= src.size() - offset, "[tokens] read of ", n, " tokens at offset ", offset,
            " passes the end of ", src.describe());
}

}  // namespace

// ---- .npy ----

NpyTokenFile::NpyTokenFile(const std::string& path) : file_(path) {
  header_ = parse_npy_header(file_.data(), static_cast<size_t>(std::min<uint64_t>(file_.size(), SIZE_MAX)), path);
  TTT_CHECK(header_.shape.size() == 1 && (header_.dtype == Dtype::u16 || header_.dtype == Dtype::i32), "[tokens] ",
            path, ": expected a 1-D array of '<u2' or '<i4' token ids; found shape ", header_.shape_str(), " of '",
            header_.descr, "'");
  size_ = header_.shape[0];
  check_npy_file_size(header_, file_.size(), path);
}

void NpyTokenFile::read(uint64_t offset, uint64_t n, int32_t* out) const {
  check_range(*this, offset, n);
  file_.check_unchanged();  // a file truncated under the mapping would end this process with SIGBUS
  const uint8_t* base = file_.data() + header_.data_offset;
  if (header_.dtype == Dtype::u16) {
    widen_u16(base + 2 * offset, n, out);
  } else {
    std::memcpy(out, base + 4 * offset, n * 4);
  }
}

std::string NpyTokenFile::describe() const {
  return "npy " + file_.path() + " (" + dtype_name(header_.dtype) + ", " + std::to_string(size_) + " tokens)";
}

std::string NpyTokenFile::locate(uint64_t offset) const {
  return file_.path() + " token " + std::to_string(offset) + " (byte offset " +
         std::to_string(header_.data_offset + offset * dtype_size(header_.dtype)) + ")";
}

// ---- .bin shards ----

std::string bin_header_bytes(uint64_t ntok) {
  TTT_CHECK(ntok <= static_cast<uint64_t>(INT32_MAX), "[bin] a shard holds at most 2^31-1 tokens (its header ",
            "count is int32); asked for ", ntok);
  std::string h(kBinHeaderBytes, '\0');
  int32_t words[3] = {kBinMagic, kBinVersion, static_cast<int32_t>(ntok)};
  std::memcpy(h.data(), words, sizeof words);
  return h;
}

BinShards::BinShards(const std::vector<std::string>& paths) {
  TTT_CHECK(!paths.empty(), "[bin] expected at least one .bin shard; got none");
  starts_.push_back(0);
  for (const auto& path : paths) {
    MmapFile f(path);
    TTT_CHECK(f.size() >= kBinHeaderBytes, "[bin] ", path, ": truncated: a shard starts with a ", kBinHeaderBytes,
              "-byte header; found a file of ", f.size(), " bytes");
    int32_t magic = load_i32(f.data()), version = load_i32(f.data() + 4), ntok = load_i32(f.data() + 8);
    TTT_CHECK(magic == kBinMagic, "[bin] ", path, ": byte offset 0: expected magic ", kBinMagic, "; found ", magic,
              magic == 20240801 ? " (llm.c's Llama-3 variant with uint32 tokens, which tttlm does not read)" : "");
    TTT_CHECK(version == kBinVersion, "[bin] ", path, ": byte offset 4: expected version ", kBinVersion, "; found ",
              version);
    TTT_CHECK(ntok >= 0, "[bin] ", path, ": byte offset 8: expected a token count >= 0; found ", ntok);
    uint64_t want = kBinHeaderBytes + 2 * static_cast<uint64_t>(ntok);
    TTT_CHECK(f.size() == want, "[bin] ", path, ": expected file size 1024 + 2*", ntok, " = ", want,
              " bytes for the token count at byte offset 8; found ", f.size(), " bytes");
    uint64_t total = 0;
    TTT_CHECK(!__builtin_add_overflow(starts_.back(), static_cast<uint64_t>(ntok), &total), "[bin] ", path,
              ": byte offset 8: the token count ", ntok, " makes the shards hold more than 2^64 - 1 tokens together");
    starts_.push_back(total);
    files_.push_back(std::move(f));
  }
}

size_t BinShards::shard_of(uint64_t offset) const {
  // The last shard whose start is <= offset (empty shards share a start with the next one).
  auto it = std::upper_bound(starts_.begin(), starts_.end() - 1, offset);
  return static_cast<size_t>(it - starts_.begin()) - 1;
}

void BinShards::read(uint64_t offset, uint64_t n, int32_t* out) const {
  check_range(*this, offset, n);
  while (n > 0) {
    size_t s = shard_of(offset);
    uint64_t local = offset - starts_[s];
    uint64_t take = std::min(n, starts_[s + 1] - offset);
    files_[s].check_unchanged();  // a shard truncated under the mapping would end this process with SIGBUS
    widen_u16(files_[s].data() + kBinHeaderBytes + 2 * local, take, out);
    out += take;
    offset += take;
    n -= take;
  }
}

std::string BinShards::describe() const {
  std::string first = files_.front().path();
  return "bin " + first + (files_.size() > 1 ? " and " + std::to_string(files_.size() - 1) + " more shards" : "") +
         " (" + std::to_string(size()) + " tokens)";
}

std::vector<TokenFileSpan> BinShards::file_spans() const {
  std::vector<TokenFileSpan> out;
  for (size_t i = 0; i < files_.size(); ++i) out.push_back({files_[i].path(), starts_[i], starts_[i + 1] - starts_[i]});
  return out;
}

std::string BinShards::locate(uint64_t offset) const {
  size_t s = shard_of(std::min(offset, size() == 0 ? 0 : size() - 1));
  uint64_t local = offset - starts_[s];
  return files_[s].path() + " token " + std::to_string(local) + " (byte offset " +
         std::to_string(kBinHeaderBytes + 2 * local) + ")";
}

// ---- discovery ----

std::string find_npy_split(const std::string& path, const std::string& split) {
  TTT_CHECK(split == "train" || split == "validation" || split == "test", "[tokens] unknown split '", split,
            "'; expected train, validation or test");
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && fs::path(path).extension() == ".npy") return path;
  TTT_CHECK(fs::is_directory(path, ec), "[tokens] ", path, " is neither a directory nor a .npy file");
  const std::string name = split + ".npy";
  if (fs::is_regular_file(fs::path(path) / name, ec)) return (fs::path(path) / name).string();
  std::vector<fs::path> level{fs::path(path)};
  for (int depth = 1; depth <= 2; ++depth) {
    std::vector<fs::path> next, found;
    for (const auto& dir : level) {
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_directory(ec)) continue;
        next.push_back(e.path());
        if (fs::is_regular_file(e.path() / name, ec)) found.push_back(e.path() / name);
      }
    }
    std::sort(found.begin(), found.end());
    if (found.size() == 1) return found[0].string();
    if (found.size() > 1) {
      std::string list;
      for (const auto& f : found) list += "\n  " + f.string();
      throw InvalidArgument("[tokens] " + std::to_string(found.size()) + " candidates for " + name + " under " + path +
                            "; name the directory that holds the one to use:" + list);
    }
    level = std::move(next);
  }
  throw InvalidArgument("[tokens] no " + name + " in " + path + " nor one or two directory levels below it (the " +
                        "official layout is DATASET/tokenizer_name-meta-llama/Llama-2-7b-hf-val_ratio-0.0005-..." +
                        "/" + name + ")");
}

std::vector<std::string> list_bin_shards(const std::string& pattern_or_dir) {
  std::error_code ec;
  std::vector<std::string> paths;
  if (fs::is_directory(pattern_or_dir, ec)) {
    for (const auto& e : fs::directory_iterator(pattern_or_dir, ec))
      if (e.is_regular_file(ec) && e.path().extension() == ".bin") paths.push_back(e.path().string());
  } else {
    glob_t g{};
    int rc = ::glob(pattern_or_dir.c_str(), 0, nullptr, &g);
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    TTT_CHECK(rc == 0 || rc == GLOB_NOMATCH, "[bin] cannot expand the pattern ", pattern_or_dir, " (glob error ", rc,
              ")");
  }
  TTT_CHECK(!paths.empty(), "[bin] no .bin shards match ", pattern_or_dir);
  std::sort(paths.begin(), paths.end());
  return paths;
}

TokenFormat token_format_from_name(const std::string& name) {
  if (name == "npy") return TokenFormat::npy;
  if (name == "bin") return TokenFormat::bin;
  throw InvalidArgument("[tokens] unknown token format '" + name + "'; expected npy or bin");
}

std::shared_ptr<TokenSource> open_split(TokenFormat format, const std::string& path, const std::string& split) {
  if (format == TokenFormat::npy) return std::make_shared<NpyTokenFile>(find_npy_split(path, split));
  TTT_CHECK(split == "train" || split == "validation" || split == "test", "[tokens] unknown split '", split,
            "'; expected train, validation or test");
  std::error_code ec;
  std::string pattern = path;
  if (fs::is_directory(path, ec)) {
    std::string tag = split == "validation" ? "val" : split;
    pattern = (fs::path(path) / ("*_" + tag + "_*.bin")).string();
  }
  return std::make_shared<BinShards>(list_bin_shards(pattern));
}

}  // namespace tttlm::data
