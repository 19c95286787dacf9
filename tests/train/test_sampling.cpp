// Sampling of the next token: greedy, temperature, top-k and top-p, checked by the frequencies of 40,000
// draws against the renormalised distributions computed by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "train/generate.h"
#include "train/model_io.h"

using namespace tttlm::train;

namespace {
// Probabilities placed at shuffled ids so that "most likely" is not "lowest id".
const std::vector<int> kIds = {3, 0, 4, 1, 2};  // id of the i-th most likely
const std::vector<double> kProb = {0.5, 0.2, 0.15, 0.1, 0.05};
std::vector<double> logits() {
  std::vector<double> l(5);
  for (size_t i = 0; i < 5; ++i) l[kIds[i]] = std::log(kProb[i]) + 3.0;  // any shift
  return l;
}
std::map<int, double> frequencies(const SamplingOptions& o, int n = 40000) {
  std::map<int, double> f;
  for (int s = 0; s < n; ++s) f[sample_token(logits(), o, static_cast<uint64_t>(s))] += 1.0 / n;
  return f;
}
// The most likely `keep` entries, renormalised.
void require_distribution(const std::map<int, double>& f, size_t keep) {
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += kProb[i];
  for (size_t i = 0; i < 5; ++i) {
    INFO("rank " << i << " id " << kIds[i]);
    double got = f.count(kIds[i]) ? f.at(kIds[i]) : 0.0;
    if (i < keep)
      REQUIRE(std::abs(got - kProb[i] / total) < 0.012);
    else
      REQUIRE(got == 0.0);
  }
}
}  // namespace

TEST_CASE("sampling: greedy, temperature, top-k, top-p and their combination draw from the right set",
          "[train][generate]") {
  SamplingOptions o;
  o.temperature = 0;
  REQUIRE(sample_token(logits(), o, 7) == 3);
  o.temperature = 1;
  require_distribution(frequencies(o), 5);
  o.top_k = 2;
  require_distribution(frequencies(o), 2);
  o.top_k = 1;
  require_distribution(frequencies(o), 1);
  o.top_k = 0;
  o.top_p = 0.8;  // 0.5 + 0.2 < 0.8 <= 0.5 + 0.2 + 0.15
  require_distribution(frequencies(o), 3);
  o.top_p = 0.45;  // the most likely alone (0.5) reaches 0.45
  require_distribution(frequencies(o), 1);
  o.top_k = 3;
  o.top_p = 0.9;  // within the top 3 (0.85): 0.5 + 0.2 = 0.7 < 0.9 * 0.85 <= 0.85
  require_distribution(frequencies(o), 3);
  o.top_k = 2;
  o.top_p = 0.9;  // within the top 2 (0.7): 0.5 < 0.63 <= 0.7
  require_distribution(frequencies(o), 2);
  // A high temperature flattens: T = 1e6 is nearly uniform over the kept set.
  o = SamplingOptions{};
  o.temperature = 1e6;
  auto f = frequencies(o);
  for (int id = 0; id < 5; ++id) REQUIRE(std::abs(f[id] - 0.2) < 0.012);
}

TEST_CASE("sampling: the same seed and step give the same token; the defaults equal plain temperature sampling",
          "[train][generate]") {
  SamplingOptions a, b;
  a.temperature = b.temperature = 0.7;
  a.seed = b.seed = 11;
  b.top_k = 5;  // keeps everything: must not change a single draw
  b.top_p = 1.0;
  for (uint64_t s = 0; s < 200; ++s) REQUIRE(sample_token(logits(), a, s) == sample_token(logits(), b, s));
  SamplingOptions c = a;
  c.seed = 12;
  int differ = 0;
  for (uint64_t s = 0; s < 200; ++s) differ += sample_token(logits(), a, s) != sample_token(logits(), c, s);
  REQUIRE(differ > 20);
}

TEST_CASE("sampling: invalid options are refused", "[train][generate]") {
  SamplingOptions o;
  o.top_p = 0;
  REQUIRE_THROWS_WITH(sample_token(logits(), o, 0), Catch::Contains("top_p in (0, 1]"));
  o.top_p = 1;
  o.top_k = -1;
  REQUIRE_THROWS_WITH(sample_token(logits(), o, 0), Catch::Contains("top_k >= 0"));
}

TEST_CASE("generate decodes the prompt and its continuation together, keeping the space between them",
          "[train][generate]") {
  const auto tok = tttlm::data::Tokenizer::load(std::string(TTTLM_SOURCE_DIR) + "/tests/data/fixtures/tiny_bpe.model");
  const std::vector<int32_t> prompt = tok.encode("To be or not"),
                             more = tok.encode("to be");  // "▁to ▁be", as generated
  // Decoding the continuation alone loses the leading space that SentencePiece keeps in its first piece.
  REQUIRE(std::string("To be or not") + tok.decode(more) == "To be or notto be");
  REQUIRE(decode_with_prompt(tok, prompt, more) == "To be or not to be");
}

TEST_CASE("generate refuses a tokenizer larger than the model's vocabulary", "[train][generate]") {
  const auto tok = tttlm::data::Tokenizer::load(std::string(TTTLM_SOURCE_DIR) + "/tests/data/fixtures/tiny_bpe.model");
  LoadedModel m = load_model(std::string(TTTLM_SOURCE_DIR) + "/tests/golden/ttt-linear-mamba");  // vocab 61
  SamplingOptions o;
  REQUIRE_THROWS_WITH(generate_text(*m.model, tok, "hello", 3, o),
                      Catch::Contains("ids but the model's vocab_size is 61: they do not belong together"));
}
