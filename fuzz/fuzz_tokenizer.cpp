// Fuzzes the tokenizer-model loader (Tokenizer::load, a serialized sentencepiece ModelProto): the input is a
// whole tokenizer.model. A model that loads must encode and decode a fixed text and name its pieces.
// Failure: any crash, sanitizer report or exception other than tttlm::Error.
#include <algorithm>

#include "data/tokenizer.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  const std::string path = fuzz::write_temp("tokenizer.model", {reinterpret_cast<const char*>(data), size});
  fuzz::expect_clean_errors([&] {
    const data::Tokenizer tok = data::Tokenizer::load(path);
    const std::vector<int32_t> ids = tok.encode("Double, double toil and trouble; 1606 \xc3\xa9\xe2\x82\xac.");
    (void)tok.decode(ids);
    (void)tok.bos_id();
    (void)tok.eos_id();
    (void)tok.unk_id();
    (void)tok.pad_id();
    for (int32_t id = 0; id < std::min(tok.vocab_size(), 64); ++id) (void)tok.id_to_piece(id);
  });
  return 0;
}
