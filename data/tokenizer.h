// SentencePiece tokenizer (libsentencepiece): load a tokenizer.model, encode and decode text, and train a
// BPE model with the Llama-2-like settings of docs/spec/data_formats.md §2 (unk 0, bos 1, eos 2, no pad, byte fallback,
// split digits, identity normalisation). encode() never adds BOS/EOS; callers add them (tokenize.h).
// The sentencepiece headers stay in tokenizer.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tttlm::data {

class Tokenizer {
 public:
  // Loads a serialized sentencepiece ModelProto; throws InvalidArgument naming the file and the library's
  // message when it is missing or not a model.
  static Tokenizer load(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Ids of `text` without BOS/EOS. const and thread-safe (the model is immutable after load).
  std::vector<int32_t> encode(std::string_view text) const;
  // Text of `ids`; control ids (BOS, EOS) decode to nothing. Throws InvalidArgument on an id outside
  // [0, vocab_size()).
  std::string decode(const std::vector<int32_t>& ids) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;
  int32_t unk_id() const;
  int32_t pad_id() const;
  std::string id_to_piece(int32_t id) const;  // throws InvalidArgument outside [0, vocab_size())
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

struct BpeTrainOptions {
  int vocab_size = 8192;
  double character_coverage = 0.99995;
  int num_threads = 2;
  // Lines longer than this many bytes are skipped by the trainer (sentencepiece's max_sentence_length).
  int max_sentence_length = 4192;
  // Sentences sampled for training; 0 = all (sentencepiece's input_sentence_size).
  uint64_t input_sentence_size = 0;
  bool quiet = true;  // silence sentencepiece's progress log on stderr
};

// Trains a BPE model on text files (one sentence per line) and writes <model_prefix>.model and
// <model_prefix>.vocab; returns the .model path. Equivalent to docs/spec/data_formats.md's
//   spm_train --model_type=bpe --character_coverage=... --byte_fallback=true --split_digits=true
//     --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false
//     --normalization_rule_name=identity --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1
// Throws InvalidArgument naming the inputs and the library's message when training fails.
std::string train_bpe(const std::vector<std::string>& inputs, const std::string& model_prefix,
                      const BpeTrainOptions& options = {});

}  // namespace tttlm::data
