#include "train/generate.h"

#include <algorithm>
#include <cmath>

#include "core/philox.h"
#include "layers/decoder.h"

namespace tttlm::train {

int32_t sample_token(std::vector<double> l, const SamplingOptions& o, uint64_t step) {
  TTT_CHECK(!l.empty(), "[generate] no logits to sample from");
  if (o.temperature <= 0) return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
  TTT_CHECK(std::isfinite(o.temperature) && o.top_k >= 0 && o.top_p > 0 && o.top_p <= 1,
            "[generate] sampling options: ", "temperature ", o.temperature, ", top_k ", o.top_k, ", top_p ", o.top_p,
            "; expected a finite temperature, top_k >= 0 and top_p in (0, 1]");
  double mx = *std::max_element(l.begin(), l.end()), sum = 0;
  for (double& v : l) sum += (v = std::exp((v - mx) / o.temperature));
  const bool all = (o.top_k == 0 || o.top_k >= static_cast<int64_t>(l.size())) && o.top_p >= 1;
  if (!all) {
    std::vector<size_t> order(l.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return l[a] > l[b]; });
    size_t keep = o.top_k > 0 ? std::min(order.size(), static_cast<size_t>(o.top_k)) : order.size();
    double kept_sum = 0;
    for (size_t r = 0; r < keep; ++r) kept_sum += l[order[r]];
    if (o.top_p < 1) {  // the nucleus within the top-k
      double acc = 0;
      for (size_t r = 0; r < keep; ++r) {
        acc += l[order[r]];
        if (acc >= o.top_p * kept_sum) {
          keep = r + 1;
          break;
        }
      }
    }
    for (size_t r = keep; r < order.size(); ++r) l[order[r]] = 0;
    sum = 0;
    for (double v : l) sum += v;
  }
  const double u = philox::uniform(o.seed, 17, step) * sum;
  double acc = 0;
  size_t last = 0;
  for (size_t i = 0; i < l.size(); ++i) {
    if (l[i] <= 0) continue;
    last = i;
    acc += l[i];
    if (acc >= u) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(last);  // rounding left u above the total: the last kept id
}

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> tokens, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id) {
  SamplingOptions o;
  o.temperature = temperature;
  o.seed = seed;
  return generate_tokens(model, std::move(tokens), max_new_tokens, o, stop_id);
}

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> tokens, int64_t max_new_tokens,
                                     const SamplingOptions& sampling, int32_t stop_id) {
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
    const int32_t next = sample_token(std::move(l), sampling, static_cast<uint64_t>(n));
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

std::string decode_with_prompt(const data::Tokenizer& tokenizer, const std::vector<int32_t>& prompt_ids,
                               const std::vector<int32_t>& continuation) {
  std::vector<int32_t> all = prompt_ids;
  all.insert(all.end(), continuation.begin(), continuation.end());
  return tokenizer.decode(all);
}

std::string generate_text(const layers::CausalLM& model, const data::Tokenizer& tokenizer, const std::string& prompt,
                          int64_t max_new_tokens, const SamplingOptions& sampling) {
  TTT_CHECK(tokenizer.vocab_size() <= model.config().vocab_size, "[generate] the tokenizer ", tokenizer.path(), " has ",
            tokenizer.vocab_size(), " ids but the model's vocab_size is ", model.config().vocab_size,
            ": they do not belong together (pass the tokenizer the model was trained with)");
  const std::vector<int32_t> prompt_ids = tokenizer.encode(prompt);
  std::vector<int32_t> ids = {tokenizer.bos_id()};
  ids.insert(ids.end(), prompt_ids.begin(), prompt_ids.end());
  const std::vector<int32_t> out = generate_tokens(model, ids, max_new_tokens, sampling, tokenizer.eos_id());
  return decode_with_prompt(tokenizer, prompt_ids, out);
}

}  // namespace tttlm::train
