#include "train/generate.h"

#include <algorithm>
#include <cmath>

#include "core/philox.h"
#include "layers/decoder.h"

namespace tttlm::train {

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> tokens, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id) {
  TTT_CHECK(!tokens.empty(), "[generate] the prompt encodes to no tokens");
  std::vector<int32_t> out;
  if (max_new_tokens <= 0) return out;
  layers::Decoder decoder(model, 1);
  const int64_t limit = decoder.max_positions();  // -1: no limit
  auto prefill_last = [&](int64_t length) {
    decoder.reset();
    std::vector<int32_t> window(tokens.end() - length, tokens.end());
    return decoder.prefill(Tensor::from_vector(window, {1, length}));
  };
  const int64_t prompt = static_cast<int64_t>(tokens.size());
  Tensor logits = prefill_last(limit < 0 ? prompt : std::min(prompt, limit));  // (1, V')
  for (int64_t n = 0; n < max_new_tokens; ++n) {
    std::vector<double> l = logits.to_vector<double>();
    l.resize(static_cast<size_t>(model.config().vocab_size));  // never sample Mamba's padding rows
    int32_t next = 0;
    if (temperature <= 0) {
      next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    } else {
      double mx = *std::max_element(l.begin(), l.end()), sum = 0;
      for (double& v : l) sum += (v = std::exp((v - mx) / temperature));
      double u = philox::uniform(seed, 17, static_cast<uint64_t>(n)) * sum, acc = 0;
      for (size_t i = 0; i < l.size(); ++i) {
        acc += l[i];
        if (acc >= u) {
          next = static_cast<int32_t>(i);
          break;
        }
      }
    }
    tokens.push_back(next);
    out.push_back(next);
    if (next == stop_id || n + 1 == max_new_tokens) break;
    if (limit >= 0 && decoder.position() == limit)
      logits = prefill_last(std::max<int64_t>(1, limit / 2));
    else
      logits = decoder.step(Tensor::from_vector(std::vector<int32_t>{next}, {1}));
  }
  return out;
}

}  // namespace tttlm::train
