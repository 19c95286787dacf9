// SentencePieceProcessor behind a pimpl, and SentencePieceTrainer driven with a flag map.
#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "core/error.h"
#include "core/text_file.h"

namespace tttlm::data {

struct Tokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::string& model_path) {
  auto impl = std::make_unique<Impl>();
  // Read here (a directory or a missing file is a clear error, not the library's stream failure).
  const std::string bytes = read_text_file(model_path, "[tokenizer]");
  // libsentencepiece reports most bad models through its status, but its trie builder throws for some
  // malformed vocabularies (an empty piece: Darts "zero-length key").
  const auto status = [&] {
    try {
      return impl->sp.LoadFromSerializedProto(bytes);
    } catch (const std::exception& e) {
      throw InvalidArgument("[tokenizer] cannot load the sentencepiece model " + model_path + ": not a valid model (" +
                            e.what() + ")");
    }
  }();
  TTT_CHECK(status.ok(), "[tokenizer] cannot load the sentencepiece model ", model_path, ": ", status.ToString());
  return Tokenizer(std::move(impl), model_path);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  auto status = impl_->sp.Encode(text, &ids);
  TTT_CHECK_RT(status.ok(), "[tokenizer] encoding ", text.size(), " bytes with ", path_,
               " failed: ", status.ToString());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  const int32_t n = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i)
    TTT_CHECK(ids[i] >= 0 && ids[i] < n, "[tokenizer] id ", ids[i], " at position ", i,
              " is outside the vocabulary [0, ", n, ") of ", path_);
  std::string text;
  auto status = impl_->sp.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  TTT_CHECK_RT(status.ok(), "[tokenizer] decoding ", ids.size(), " ids with ", path_, " failed: ", status.ToString());
  return text;
}

int32_t Tokenizer::vocab_size() const { return impl_->sp.GetPieceSize(); }
int32_t Tokenizer::bos_id() const { return impl_->sp.bos_id(); }
int32_t Tokenizer::eos_id() const { return impl_->sp.eos_id(); }
int32_t Tokenizer::unk_id() const { return impl_->sp.unk_id(); }
int32_t Tokenizer::pad_id() const { return impl_->sp.pad_id(); }

std::string Tokenizer::id_to_piece(int32_t id) const {
  TTT_CHECK(id >= 0 && id < vocab_size(), "[tokenizer] id ", id, " is outside the vocabulary [0, ", vocab_size(),
            ") of ", path_);
  return impl_->sp.IdToPiece(id);
}

std::string train_bpe(const std::vector<std::string>& inputs, const std::string& model_prefix,
                      const BpeTrainOptions& options) {
  TTT_CHECK(!inputs.empty(), "[tokenizer] train_bpe needs at least one input file; got none");
  TTT_CHECK(options.vocab_size > 0, "[tokenizer] vocab_size must be positive; got ", options.vocab_size);
  std::string input_list;
  for (const auto& path : inputs) {
    TTT_CHECK(path.find(',') == std::string::npos, "[tokenizer] input path ", path,
              " contains a comma, which sentencepiece's --input list cannot hold");
    input_list += (input_list.empty() ? "" : ",") + path;
  }
  std::unordered_map<std::string, std::string> flags = {
      {"input", input_list},
      {"model_prefix", model_prefix},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"model_type", "bpe"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"byte_fallback", "true"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"remove_extra_whitespaces", "false"},
      {"normalization_rule_name", "identity"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      {"num_threads", std::to_string(options.num_threads)},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"minloglevel", options.quiet ? "1" : "0"},
  };
  auto status = sentencepiece::SentencePieceTrainer::Train(flags);
  TTT_CHECK(status.ok(), "[tokenizer] training a BPE model of vocab_size ", options.vocab_size, " on ", input_list,
            " failed: ", status.ToString());
  return model_prefix + ".model";
}

}  // namespace tttlm::data
