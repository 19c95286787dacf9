// Token streams: one logical 1-D sequence of token ids read from memory-mapped files, never loaded whole.
// Two formats (docs/spec/data_formats.md §3): the official TTT folder (train.npy / validation.npy /
// test.npy, 1-D '<u2' or '<i4') and llm.c .bin shards (a 1024-byte header of 256 int32 [20240520, 1, ntok, 0...], then
// ntok uint16 ids; file size exactly 1024 + 2*ntok), several shards concatenated in sorted path order. Offsets and
// sizes are 64-bit (the Pile's train.npy holds 3.8e11 tokens).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/mmap_file.h"
#include "data/npy.h"

namespace tttlm::data {

// The tokens [first, first + count) of a stream that live in one file.
struct TokenFileSpan {
  std::string path;
  uint64_t first = 0, count = 0;
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // Number of tokens in the stream.
  virtual uint64_t size() const = 0;
  // Copies tokens [offset, offset + n) into out as int32. Throws InvalidArgument when the range passes
  // the end, RuntimeError naming the file when a file read was changed on disk since it was opened
  // (MmapFile::check_unchanged). const and stateless: safe to call from several threads at once.
  virtual void read(uint64_t offset, uint64_t n, int32_t* out) const = 0;
  // "npy /d/train.npy (u16, 5000 tokens)", for messages.
  virtual std::string describe() const = 0;
  // Where token `offset` lives: "/d/x_train_000001.bin token 17 (byte offset 1058)".
  virtual std::string locate(uint64_t offset) const = 0;
  // The files behind the stream, in stream order (empty for a source not backed by files).
  virtual std::vector<TokenFileSpan> file_spans() const { return {}; }
};

// One 1-D .npy file of uint16 or int32 ids (the official loader's storage, docs/spec/ttt.md §8).
class NpyTokenFile final : public TokenSource {
 public:
  explicit NpyTokenFile(const std::string& path);
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint64_t n, int32_t* out) const override;
  std::string describe() const override;
  std::string locate(uint64_t offset) const override;
  std::vector<TokenFileSpan> file_spans() const override { return {{file_.path(), 0, size_}}; }
  const NpyHeader& header() const { return header_; }

 private:
  MmapFile file_;
  NpyHeader header_;
  uint64_t size_ = 0;
};

// llm.c .bin shards concatenated into one stream, in the order given.
class BinShards final : public TokenSource {
 public:
  explicit BinShards(const std::vector<std::string>& paths);
  uint64_t size() const override { return starts_.back(); }
  void read(uint64_t offset, uint64_t n, int32_t* out) const override;
  std::string describe() const override;
  std::string locate(uint64_t offset) const override;
  std::vector<TokenFileSpan> file_spans() const override;
  size_t num_shards() const { return files_.size(); }

 private:
  size_t shard_of(uint64_t offset) const;  // index of the shard that holds token `offset`
  std::vector<MmapFile> files_;
  std::vector<uint64_t> starts_;  // starts_[i] = first token of shard i; starts_.back() = total
};

// llm.c .bin constants and the header a writer puts before ntok uint16 ids.
constexpr int32_t kBinMagic = 20240520;
constexpr int32_t kBinVersion = 1;
constexpr uint64_t kBinHeaderBytes = 1024;
std::string bin_header_bytes(uint64_t ntok);

// Finds "<split>.npy" for split "train", "validation" or "test": `path` itself when it names a .npy file,
// else path/<split>.npy, else the single match one or two directory levels down (the official layout
// nests it as <dataset_path>/tokenizer_name-meta-llama/Llama-2-7b-hf-val_ratio-.../<split>.npy).
// Throws InvalidArgument when there is none, or several at the same depth (listing them).
std::string find_npy_split(const std::string& path, const std::string& split);

// The .bin shards named by a glob pattern ("data/fineweb_train_*.bin") or, for a directory, all its
// *.bin files; sorted by path. Throws InvalidArgument when nothing matches.
std::vector<std::string> list_bin_shards(const std::string& pattern_or_dir);

enum class TokenFormat { npy, bin };
// "npy" or "bin"; throws InvalidArgument naming the accepted values.
TokenFormat token_format_from_name(const std::string& name);

// Opens one split. npy: find_npy_split(path, split). bin: a directory means the shards
// "<path>/*_<tag>_*.bin" with tag "train", "val" (for split "validation", llm.c's name) or "test";
// anything else is used as a glob pattern as it is.
std::shared_ptr<TokenSource> open_split(TokenFormat format, const std::string& path, const std::string& split);

// check_token_ids (the vocabulary check at start-up) is in data/token_check.h.

}  // namespace tttlm::data
