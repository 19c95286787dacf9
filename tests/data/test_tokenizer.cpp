// SentencePiece wrapper: the committed tiny_bpe.model (trained by Debian's spm_train with docs/spec/data_formats.md's
// flags, scripts/make_data_fixtures.py) loads with Llama-like special ids and round-trips text, and
// train_bpe on the same files learns the same vocabulary.
#include <catch2/catch.hpp>
#include <fstream>

#include "core/error.h"
#include "data/tokenizer.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {
const std::vector<std::string> kTexts = {"macbeth_gut.txt", "comedy_of_errors_gut.txt", "lovers_complaint_gut.txt",
                                         "passionate_pilgrim_gut.txt", "phoenix_and_the_turtle_gut.txt"};
}

TEST_CASE("tokenizer loads a BPE model with unk 0, bos 1, eos 2 and no pad", "[data][tokenizer]") {
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  REQUIRE(tok.vocab_size() == 1000);
  REQUIRE(tok.unk_id() == 0);
  REQUIRE(tok.bos_id() == 1);
  REQUIRE(tok.eos_id() == 2);
  REQUIRE(tok.pad_id() == -1);
  REQUIRE(tok.id_to_piece(1) == "<s>");
  REQUIRE(tok.id_to_piece(2) == "</s>");
  REQUIRE(tok.id_to_piece(3) == "<0x00>");  // byte fallback pieces follow the specials, as in Llama-2
  REQUIRE(tok.id_to_piece(258) == "<0xFF>");
  REQUIRE_THROWS_WITH(tok.id_to_piece(1000), Contains("id 1000 is outside the vocabulary [0, 1000)"));
}

TEST_CASE("tokenizer round-trips text, including bytes outside the training alphabet", "[data][tokenizer]") {
  Tokenizer tok = Tokenizer::load(fixture("tiny_bpe.model"));
  std::string play = test::read_bytes(fixture("text/macbeth_gut.txt")).substr(0, 6000);
  std::vector<int32_t> ids = tok.encode(play);
  REQUIRE(ids.size() > 1000);
  REQUIRE(ids.size() < play.size() / 2);  // BPE merges: well under one id per two bytes
  REQUIRE(tok.decode(ids) == play);
  for (int32_t id : ids) {
    REQUIRE(id > 2);  // encode adds neither BOS nor EOS
    REQUIRE(id < 1000);
  }
  // Non-ASCII text falls back to byte pieces; nothing becomes <unk>.
  std::string odd = "caf\xc3\xa9 \xe2\x80\x93 na\xc3\xafve \xf0\x9f\x98\x80\tline\n\n  two spaces";
  std::vector<int32_t> odd_ids = tok.encode(odd);
  REQUIRE(std::find(odd_ids.begin(), odd_ids.end(), 0) == odd_ids.end());
  REQUIRE(tok.decode(odd_ids) == odd);
  // split_digits: no piece holds two digits (byte pieces such as <0x31> spell one byte in hex).
  for (int32_t id : tok.encode("In 1606, 42 witches and 31337 thanes")) {
    std::string piece = tok.id_to_piece(id);
    if (piece.rfind("<0x", 0) == 0) continue;
    REQUIRE(std::count_if(piece.begin(), piece.end(), [](char c) { return c >= '0' && c <= '9'; }) <= 1);
  }
  // Control ids decode to nothing; an id outside the vocabulary is an error.
  REQUIRE(tok.decode({1, tok.encode("Hail")[0], 2}) == tok.decode({tok.encode("Hail")[0]}));
  REQUIRE_THROWS_WITH(tok.decode({5, 1000}), Contains("id 1000 at position 1 is outside the vocabulary"));
}

TEST_CASE("train_bpe with the settings of docs/spec/data_formats.md §2 learns the vocabulary spm_train learned",
          "[data][tokenizer]") {
  test::TempDir tmp;
  std::vector<std::string> inputs;
  for (const auto& t : kTexts) inputs.push_back(fixture("text/" + t));
  BpeTrainOptions opt;
  opt.vocab_size = 1000;
  std::string model = train_bpe(inputs, tmp / "bpe", opt);
  REQUIRE(model == tmp / "bpe.model");
  Tokenizer mine = Tokenizer::load(model), ref = Tokenizer::load(fixture("tiny_bpe.model"));
  REQUIRE(mine.vocab_size() == ref.vocab_size());
  for (int32_t id = 0; id < ref.vocab_size(); ++id) {
    INFO("id " << id);
    REQUIRE(mine.id_to_piece(id) == ref.id_to_piece(id));
  }
  std::string text = test::read_bytes(fixture("text/phoenix_and_the_turtle_gut.txt"));
  REQUIRE(mine.encode(text) == ref.encode(text));
}

TEST_CASE("tokenizer errors name the file", "[data][tokenizer]") {
  REQUIRE_THROWS_WITH(Tokenizer::load("/nonexistent/tok.model"),
                      Contains("[tokenizer] /nonexistent/tok.model: no such file"));
  REQUIRE_THROWS_WITH(Tokenizer::load(fixture("text/phoenix_and_the_turtle_gut.txt")),
                      Contains("phoenix_and_the_turtle_gut.txt"));
  test::TempDir tmp;
  // A 47-byte ModelProto whose third piece is empty (found by fuzz/fuzz_tokenizer.cpp): libsentencepiece's
  // trie builder threw Darts::Exception through Load instead of returning a status.
  const std::string empty_piece(
      "\x0a\x0e\x0a\x05\x3c\x75\x6e\x6b\x3e\x15\x00\x00\x00\x00\x18\x02"
      "\x0a\x0c\x0a\x03\x3c\x73\x3e\x15\x91\x00\x00\x00\x18\x03\x0a\x0d"
      "\x0a\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x30\x00",
      47);
  const std::string bad = tmp / "empty_piece.model";
  std::ofstream(bad, std::ios::binary) << empty_piece;
  REQUIRE_THROWS_AS(Tokenizer::load(bad), InvalidArgument);
  REQUIRE_THROWS_WITH(Tokenizer::load(bad),
                      Contains("[tokenizer] cannot load the sentencepiece model") && Contains("empty_piece.model"));
  REQUIRE_THROWS_WITH(train_bpe({}, tmp / "m"), Contains("at least one input file"));
  REQUIRE_THROWS_WITH(train_bpe({tmp / "missing.txt"}, tmp / "m"), Contains("missing.txt"));
}
