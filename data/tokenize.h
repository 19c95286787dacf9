// Corpus -> token files in both formats tttlm reads. One input file is one document (a book, a play; split
// a corpus into files first for finer documents); each becomes [BOS] ids [EOS] like the official loader's
// text + "</s>" (docs/spec/ttt.md §8). Documents are encoded in parallel, one per task (so one huge file uses one
// core), and all ids are held in memory until written (4 bytes per token).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace tttlm::data {

struct TokenizeOptions {
  double val_fraction = 0.005;  // in [0, 1); 0 writes no validation split
  uint64_t seed = 2357;         // picks the validation documents
  int num_threads = 0;          // 0: std::thread::hardware_concurrency()
  bool write_npy = true;
  bool write_bin = true;
  bool npy_test_copy = true;  // also write test.npy (a copy of validation.npy); the official loader opens it
  uint64_t shard_tokens = 100'000'000;  // llm.c's default shard size
  std::string bin_prefix = "tttlm";
  // Called after each document with (input bytes encoded so far, total input bytes); from worker threads,
  // one call at a time, bytes_done increasing.
  std::function<void(uint64_t bytes_done, uint64_t bytes_total)> progress;
};

struct TokenizeResult {
  uint64_t train_tokens = 0, val_tokens = 0;
  std::vector<size_t> val_docs;    // indices into the input file list, increasing
  std::vector<std::string> files;  // every file written, in writing order
};

// The held-out documents: the first ceil(fraction * num_docs) entries of a Philox-driven Fisher-Yates
// permutation keyed by seed, sorted. Throws InvalidArgument when fraction is outside [0, 1) or when
// no training document would remain.
std::vector<size_t> pick_validation_docs(size_t num_docs, double fraction, uint64_t seed);

// Tokenizes `files` into out_dir (created when missing). An empty document becomes [BOS] alone (as
// officially). The held-out documents are pick_validation_docs(files.size(), val_fraction, seed); both
// splits keep the input order of their documents. Writes
//   npy: train.npy, validation.npy and, with npy_test_copy, test.npy (= validation, the Books3 convention);
//        '<u2' when vocab_size < 65536, else '<i4' (the official rule);
//   bin: <prefix>_train_000000.bin, ... and <prefix>_val_000000.bin, ...: llm.c shards of at most
//        shard_tokens uint16 ids, documents split across shards freely; open_split(bin, out_dir, split)
//        finds them. Shards "<prefix>_<tag>_NNNNNN.bin" of an earlier run beyond the new count are removed.
// Throws InvalidArgument for an unreadable input, a tokenizer without BOS/EOS, no output format, or an
// id that does not fit the output dtype.
TokenizeResult tokenize_files(const Tokenizer& tokenizer,
                              const std::vector<std::string>& files,
                              const std::string& out_dir,
                              const TokenizeOptions& options = {});

}  // namespace tttlm::data
