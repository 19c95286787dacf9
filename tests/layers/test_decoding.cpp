// Step-by-step decoding (layers/decoder.h) against the full forward, for all six kinds: small models with
// every parameter non-trivial, batch 2, T = 11 = two inner mini-batches of 4 plus a partial one; generate's
// greedy tokens against argmax of the full recomputation; the golden models against the numpy reference;
// the Transformer's max_seq_len limit and generate's restart rule; the errors.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "data/npy.h"
#include "helpers.h"
#include "layers/decoder.h"
#include "train/generate.h"
#include "train/model_io.h"

using namespace tttlm;
using namespace tttlm::layers;

namespace {

constexpr int64_t kVocab = 61;  // Mamba pads it to 64

// Mamba: dt in [0.05, 0.5] (default [0.001, 0.1]) so that the scan state carries more from token to token.
ModelConfig small_config(const std::string& kind, int64_t max_seq_len) {
  nlohmann::json j = {{"kind", kind},
                      {"vocab_size", kVocab},
                      {"hidden_size", 32},
                      {"intermediate_size", 48},
                      {"num_layers", 2},
                      {"num_heads", 4},
                      {"max_seq_len", max_seq_len},
                      {"mini_batch_size", 4},
                      {"initializer_range", 0.1},
                      {"mamba", {{"d_state", 8}, {"scan_chunk", 5}, {"dt_min", 0.05}, {"dt_max", 0.5}}}};
  return ModelConfig::from_json(j, "test_decoding");
}

// Random weights, then every parameter that starts constant (biases, norms, learnable_token_idx, the ttt_lr
// bias, D, ...) moved off its constant so that no term of the decoding state is trivially zero or one.
std::unique_ptr<CausalLM> small_model(const std::string& kind, Dtype dtype, int64_t max_seq_len = 16) {
  auto model = std::make_unique<CausalLM>(small_config(kind, max_seq_len));
  model->materialize(cpu_device(), 11);
  autograd::NoGradGuard ng;
  uint64_t seed = 100;
  for (Parameter* p : model->parameters()) {
    Tensor v = p->value;
    if (p->init.kind == InitKind::constant) {
      auto x = v.to_vector<float>();
      auto noise = test::randn(p->shape, seed++).to_vector<float>();
      for (size_t i = 0; i < x.size(); ++i) x[i] += 0.2f * noise[i];
      v = Tensor::from_vector(x, p->shape);
    }
    p->value = ops::cast(v, dtype).detach();
  }
  return model;
}

Tensor token_ids(int64_t B, int64_t T) {
  std::vector<int32_t> v(B * T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) v[b * T + t] = static_cast<int32_t>((t * 7 + b * 13 + 3 + t * t) % kVocab);
  return Tensor::from_vector(v, {B, T});
}

// Tolerances on |logit difference|, relative to the largest |logit| (1.3 to 3.2 here). Decoding computes
// the same functions in another order: one-row GEMMs instead of T-row ones, the TTT inner loop in its primal
// token form instead of the dual form (docs/spec/ttt.md §3.7), the attention softmax composed instead of tiled.
// Measured worst cases over the six kinds: 1.1e-15 in f64, 7.8e-7 in f32 (a few ulps). The bounds leave
// ~1000x resp. ~13x margin. Dropping one recurrent state moves the logits by far more: 8e-4 for the Mamba
// scan state (hence the larger dt range in small_config), 0.14 to 0.6 for the TTT inner-loop update, the
// TTT RoPE offset or the attention positions, 2 for a conv history (checked by hand on broken variants).
double tolerance(Dtype dtype) { return dtype == Dtype::f64 ? 1e-12 : 1e-5; }

void require_logits_close(const Tensor& got, const Tensor& want, Dtype dtype, const std::string& what) {
  double scale = 1.0;
  for (double x : want.to_vector<double>()) scale = std::max(scale, std::abs(x));
  test::require_close(got, want, tolerance(dtype) * scale, 0.0, what);
}

Tensor full_logits(const CausalLM& model, const Tensor& ids) {
  autograd::NoGradGuard ng;
  return model.forward(ids);  // (B, T, V')
}

int32_t argmax_last(const CausalLM& model, const std::vector<int32_t>& tokens) {
  Tensor logits = full_logits(model, Tensor::from_vector(tokens, {1, static_cast<int64_t>(tokens.size())}));
  std::vector<double> l = ops::select(ops::select(logits, 0, 0), 0, logits.size(1) - 1).to_vector<double>();
  l.resize(kVocab);
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

}  // namespace

TEST_CASE("decoding token by token gives the full forward's logits at every position, for every kind",
          "[layers][decode]") {
  const Dtype dtype = GENERATE(Dtype::f64, Dtype::f32);
  const int64_t B = 2, T = 11;
  for (const std::string& kind : model_kind_names()) {
    INFO(kind << ", " << dtype_name(dtype));
    // max_seq_len 8 < T for the recurrent kinds: they decode without a length limit.
    const bool limited = kind == "transformer";
    auto model = small_model(kind, dtype, limited ? 16 : 8);
    Tensor ids = token_ids(B, T);
    Tensor want = full_logits(*model, ids);
    Decoder decoder(*model, B);
    REQUIRE(decoder.max_positions() == (limited ? 16 : -1));
    for (int64_t t = 0; t < T; ++t) {
      Tensor got = decoder.step(ops::contiguous(ops::select(ids, 1, t)));
      REQUIRE(got.shape() == Shape{B, model->config().padded_vocab()});
      require_logits_close(got, ops::select(want, 1, t), dtype, "position " + std::to_string(t));
    }
    REQUIRE(decoder.position() == T);
  }
}

TEST_CASE("prefill and extend in chunks give the full forward's logits, for every kind", "[layers][decode]") {
  const Dtype dtype = GENERATE(Dtype::f64, Dtype::f32);
  // Chunks of every kind: the whole sequence, a prefill ending on a mini-batch boundary, chunks after a
  // non-empty state (masked attention over the cache, the Mamba scan step by step), single steps.
  const std::vector<int64_t> chunks =
      GENERATE(std::vector<int64_t>{11}, std::vector<int64_t>{4, 7}, std::vector<int64_t>{3, 5, 1, 2},
               std::vector<int64_t>{6, 1, 1, 1, 1, 1});
  const int64_t B = 2, T = 11;
  for (const std::string& kind : model_kind_names()) {
    INFO(kind << ", " << dtype_name(dtype) << ", " << chunks.size() << " chunks");
    auto model = small_model(kind, dtype);
    Tensor ids = token_ids(B, T);
    Tensor want = full_logits(*model, ids);
    Decoder by_extend(*model, B), by_prefill(*model, B);
    int64_t start = 0;
    for (int64_t n : chunks) {
      Tensor part = ops::narrow(ids, 1, start, n);
      require_logits_close(by_extend.extend(part), ops::narrow(want, 1, start, n), dtype,
                           "extend at " + std::to_string(start));
      require_logits_close(by_prefill.prefill(part), ops::select(want, 1, start + n - 1), dtype,
                           "prefill at " + std::to_string(start));
      start += n;
    }
    REQUIRE(by_extend.position() == T);
    by_extend.reset();
    require_logits_close(by_extend.prefill(ids), ops::select(want, 1, T - 1), dtype, "after reset");
  }
}

TEST_CASE("decoding the golden models token by token reproduces the numpy reference's logits", "[layers][decode]") {
  // tests/golden: independent float64 numpy logits (primal-form TTT, sequential scan) for (2, 24) ids; the
  // tolerance is the one of tests/golden/test_golden.cpp for our full forward.
  for (const std::string& kind : model_kind_names()) {
    INFO(kind);
    const std::string dir = std::string(TTTLM_SOURCE_DIR) + "/tests/golden/" + kind;
    train::LoadedModel m = train::load_model(dir);
    Tensor ids = data::read_npy(dir + "/ids.npy");
    Tensor want = data::read_npy(dir + "/logits.npy");  // (B, T, V')
    Decoder decoder(*m.model, ids.size(0));
    for (int64_t t = 0; t < ids.size(1); ++t)
      test::require_close(decoder.step(ops::contiguous(ops::select(ids, 1, t))), ops::select(want, 1, t), 1e-4, 1e-4,
                          "position " + std::to_string(t));
  }
}

TEST_CASE("generate's greedy tokens are the argmax of the full forward recomputed at each step", "[layers][decode]") {
  for (const std::string& kind : model_kind_names()) {
    INFO(kind);
    auto model = small_model(kind, Dtype::f32);
    std::vector<int32_t> tokens = {5, 17, 2, 40, 33};
    std::vector<int32_t> want;
    for (int n = 0; n < 6; ++n) {
      want.push_back(argmax_last(*model, tokens));
      tokens.push_back(want.back());
    }
    std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + 5);
    REQUIRE(train::generate_tokens(*model, prompt, 6, 0.0, 1) == want);
    // Generation stops after the stop token.
    std::vector<int32_t> stopped = train::generate_tokens(*model, prompt, 6, 0.0, 1, want[2]);
    REQUIRE(stopped.size() <= 3);
    REQUIRE(stopped.back() == want[2]);
  }
}

TEST_CASE("a Transformer decoder stops at max_seq_len and generate restarts from half a window", "[layers][decode]") {
  auto model = small_model("transformer", Dtype::f32, 8);
  Tensor ids = token_ids(1, 9);
  Decoder decoder(*model, 1);
  REQUIRE_THROWS_WITH(decoder.prefill(ids), Catch::Contains("[decode]") && Catch::Contains("max_seq_len = 8") &&
                                                Catch::Contains("0 are consumed and 9 more"));
  decoder.prefill(ops::narrow(ids, 1, 0, 8));
  REQUIRE_THROWS_WITH(decoder.step(ops::select(ids, 1, 8)),
                      Catch::Contains("[decode]") && Catch::Contains("8 are consumed and 1 more"));
  REQUIRE(decoder.position() == 8);

  // The documented rule: a prompt longer than 8 keeps its last 8 tokens; when 8 positions are cached,
  // decoding restarts from the last 4 tokens.
  std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<int32_t> prompt = tokens;
  size_t start = tokens.size() - 8;
  std::vector<int32_t> want;
  for (int n = 0; n < 9; ++n) {
    want.push_back(argmax_last(*model, std::vector<int32_t>(tokens.begin() + start, tokens.end())));
    tokens.push_back(want.back());
    if (tokens.size() - start > 8) start = tokens.size() - 4;
  }
  REQUIRE(train::generate_tokens(*model, prompt, 9, 0.0, 1) == want);
}

TEST_CASE("the decoder rejects ids of the wrong shape", "[layers][decode]") {
  auto model = small_model("ttt-linear-mamba", Dtype::f32);
  Decoder decoder(*model, 2);
  REQUIRE_THROWS_WITH(decoder.step(token_ids(3, 1)),
                      Catch::Contains("[decode]") && Catch::Contains("B = 2") && Catch::Contains("(3, 1)"));
  REQUIRE_THROWS_WITH(decoder.step(token_ids(2, 2)), Catch::Contains("[decode]") && Catch::Contains("(2, 2)"));
  REQUIRE_THROWS_WITH(decoder.prefill(token_ids(1, 4)), Catch::Contains("[decode]") && Catch::Contains("(1, 4)"));
  REQUIRE_THROWS_WITH(Decoder(*model, 0), Catch::Contains("[decode] batch must be >= 1"));
  REQUIRE(decoder.position() == 0);
}
