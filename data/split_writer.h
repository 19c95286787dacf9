// The writers behind tokenize: one split's token stream, appended document by document, written as a
// .npy file and/or llm.c .bin shards without knowing the token count in advance (the headers are written
// with a count of 0 and rewritten in place when the count is known), and the removal of outputs an
// earlier tokenize left in the same folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "data/mmap_file.h"

namespace tttlm::data {

struct SplitWriterOptions {
  bool write_npy = true;
  bool write_bin = true;
  uint64_t shard_tokens = 100'000'000;
  std::string bin_prefix = "tttlm";
};

class SplitWriter {
 public:
  // npy: dir/<npy_name>.npy of dtype npy_dtype (u16 or i32). bin: dir/<prefix>_<bin_tag>_NNNNNN.bin.
  SplitWriter(const std::filesystem::path& dir, const std::string& npy_name, const std::string& bin_tag,
              Dtype npy_dtype, const SplitWriterOptions& options);
  // Appends one document's ids; `source` names the document in errors (an id that does not fit uint16
  // when the output holds uint16).
  void append(const std::vector<int32_t>& ids, const std::string& source);
  // Rewrites the headers with the final counts and renames every file into place; returns the paths
  // written, in writing order. Nothing is visible under the final names before this.
  std::vector<std::string> finish();
  uint64_t tokens() const { return written_; }

 private:
  void open_shard();
  void close_shard();

  std::filesystem::path dir_;
  std::string bin_tag_;
  Dtype npy_dtype_;
  SplitWriterOptions opt_;
  std::vector<uint16_t> u16_;
  std::string npy_path_, shard_path_;
  size_t npy_header_size_ = 0;
  std::unique_ptr<OutputFile> npy_, shard_;
  std::vector<std::string> done_;  // shards committed so far
  uint64_t shard_index_ = 0, shard_fill_ = 0, written_ = 0;
};

// "<prefix>_<tag>_NNNNNN.bin" for shard `index`.
std::string bin_shard_name(const std::string& prefix, const std::string& tag, uint64_t index);

// Removes the outputs of an earlier tokenize in `dir` that this run did not write (`written`, paths as
// returned by SplitWriter::finish and the test.npy copy): train.npy, validation.npy, test.npy and
// "<prefix>_train_NNNNNN.bin" / "<prefix>_val_NNNNNN.bin", together with their ".tokcheck.json" caches.
// Otherwise a re-tokenize that writes no validation split (or fewer shards, or only one format) would
// leave files from another tokenizer that training then reads. Returns the removed paths, sorted.
std::vector<std::string> remove_stale_outputs(const std::filesystem::path& dir, const std::vector<std::string>& written,
                                              const std::string& bin_prefix);

}  // namespace tttlm::data
