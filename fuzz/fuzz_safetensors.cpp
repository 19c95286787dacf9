// Fuzzes the safetensors reader (load_safetensors): the input is a whole .safetensors file; every tensor it
// yields must have the bytes its shape and dtype say. Failure: any crash, sanitizer report or exception other
// than tttlm::Error.
#include <cstdlib>

#include "fuzz/fuzz_common.h"
#include "train/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tttlm;
  const std::string path = fuzz::write_temp("fuzz.safetensors", {reinterpret_cast<const char*>(data), size});
  fuzz::expect_clean_errors([&] {
    train::SafetensorsFile f = train::load_safetensors(path);
    for (const auto& [name, t] : f.tensors)
      if (t.nbytes() > size) std::abort();  // more bytes than the file holds: the reader made them up
  });
  return 0;
}
