// Corpus -> token files in both formats tttlm reads. The input is cut into documents by a DocumentSpec
// (data/doc_source.h: whole files, JSONL lines, pieces between a separator, blocks of lines); each
// document becomes [BOS] ids [EOS] like the official loader's text + "</s>" (docs/spec/ttt.md §8).
//
// Streaming: documents are read in batches (at most batch_docs documents and, past the first, batch_bytes
// bytes of text), a batch is encoded in parallel (one document per task, so one huge document uses one
// core) and written in input order before the next batch is read. Memory is bounded by about
// batch_bytes of text plus its ids (4 bytes per token) plus the largest document, independent of the
// corpus size; the output bytes do not depend on num_threads, batch_docs or batch_bytes.
//
// Validation split (streaming, exact count): with N documents (count_documents: one extra reading pass for
// JSONL, separator and line-block inputs; none for whole files) the split holds out
// n_val = ceil(val_fraction * N) documents, chosen by selection sampling (Knuth's Algorithm S): document i
// (0-based, in input order) is held out iff floor(r_i * (N - i) / 2^64) < n_val - (documents held out
// before i), where r_i is the 64-bit Philox-4x32 draw at counter i under key `seed`. Every subset of n_val
// documents is equally likely; the choice depends only on (seed, N, i) and needs O(1) state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/doc_source.h"
#include "data/tokenizer.h"

namespace tttlm::data {

struct TokenizeOptions {
  double val_fraction = 0.005;  // in [0, 1); 0 writes no validation split
  uint64_t seed = 2357;         // picks the validation documents
  int num_threads = 0;          // 0: std::thread::hardware_concurrency()
  bool write_npy = true;
  bool write_bin = true;
  bool npy_test_copy = true;            // also write test.npy (a copy of validation.npy); the official loader opens it
  uint64_t shard_tokens = 100'000'000;  // llm.c's default shard size
  std::string bin_prefix = "tttlm";
  uint64_t batch_docs = 65536;         // documents read and encoded together, >= 1
  uint64_t batch_bytes = 64ull << 20;  // a batch closes once its text reaches this many bytes
  // Called after each document is written, in input order, from the calling thread, with (input bytes
  // consumed so far, total input bytes); once more with (total, total) when input after the last document
  // held no document (blank lines, a final separator).
  std::function<void(uint64_t bytes_done, uint64_t bytes_total)> progress;
  // Called before each batch is encoded with its number of documents and text bytes (tests, logging).
  std::function<void(uint64_t docs, uint64_t bytes)> on_batch;
};

struct TokenizeResult {
  uint64_t train_tokens = 0, val_tokens = 0;
  uint64_t num_docs = 0, val_docs = 0;
  std::vector<std::string> files;    // every file written, in writing order
  std::vector<std::string> removed;  // outputs of an earlier run in out_dir that this run replaced by nothing
};

// The streaming validation rule above: call held_out(i) for i = 0, 1, ..., num_docs - 1 in order.
class ValidationSplit {
 public:
  // Throws InvalidArgument when fraction is outside [0, 1) or when no training document would remain.
  ValidationSplit(uint64_t num_docs, double fraction, uint64_t seed);
  bool held_out(uint64_t index);
  uint64_t num_val() const { return n_val_; }

 private:
  uint64_t n_ = 0, n_val_ = 0, chosen_ = 0, next_ = 0, seed_ = 0;
};

// The held-out document indices of ValidationSplit(num_docs, fraction, seed), increasing.
std::vector<uint64_t> pick_validation_docs(uint64_t num_docs, double fraction, uint64_t seed);

// Tokenizes the documents of `docs` into out_dir (created when missing). An empty document becomes
// [BOS] alone (as officially). Both splits keep the input order of their documents. Writes
//   npy: train.npy, validation.npy and, with npy_test_copy, test.npy (= validation, the Books3 convention);
//        '<u2' when vocab_size < 65536, else '<i4' (the official rule);
//   bin: <prefix>_train_000000.bin, ... and <prefix>_val_000000.bin, ...: llm.c shards of at most
//        shard_tokens uint16 ids, documents split across shards freely; open_split(bin, out_dir, split)
//        finds them.
// Then removes what an earlier run left in out_dir and this run did not write (remove_stale_outputs:
// validation.npy and test.npy when there is no validation split now, shards beyond the new count, the
// other format's files), listing them in `removed`.
// Throws InvalidArgument for an unreadable input, a malformed JSONL line, a tokenizer without BOS/EOS,
// no output format, or an id that does not fit the output dtype.
TokenizeResult tokenize_documents(const Tokenizer& tokenizer, const DocumentSpec& docs, const std::string& out_dir,
                                  const TokenizeOptions& options = {});

// tokenize_documents with one document per file.
TokenizeResult tokenize_files(const Tokenizer& tokenizer, const std::vector<std::string>& files,
                              const std::string& out_dir, const TokenizeOptions& options = {});

}  // namespace tttlm::data
