// Whole-model behaviour of the six kinds on tiny configs: causality, recompute == plain backward, and a
// tiny model of each kind overfitting a batch of real text.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "autograd/engine.h"
#include "data/tokenizer.h"
#include "helpers.h"
#include "layers/causal_lm.h"
#include "train/model_io.h"
#include "train/optimizer.h"

using namespace tttlm;
using namespace tttlm::layers;

namespace {

std::string golden_dir(const std::string& kind) { return std::string(TTTLM_SOURCE_DIR) + "/tests/golden/" + kind; }

Tensor ids_of(const std::vector<int32_t>& v, int64_t B, int64_t T) { return Tensor::from_vector(v, {B, T}); }

}  // namespace

TEST_CASE("changing token t changes no output before t, for every kind", "[layers][causality]") {
  for (const std::string& kind : model_kind_names()) {
    INFO(kind);
    train::LoadedModel m = train::load_model(golden_dir(kind));
    autograd::NoGradGuard ng;
    const int64_t T = 24, V = m.config.vocab_size;
    std::vector<int32_t> a(T), b;
    for (int64_t t = 0; t < T; ++t) a[t] = static_cast<int32_t>((t * 7 + 3) % V);
    for (int64_t t : {0, 5, 8, 17, 23}) {
      b = a;
      b[t] = static_cast<int32_t>((a[t] + 11) % V);
      auto la = m.model->forward(ids_of(a, 1, T)).to_vector<float>();
      auto lb = m.model->forward(ids_of(b, 1, T)).to_vector<float>();
      const int64_t Vp = m.config.padded_vocab();
      for (int64_t i = 0; i < t * Vp; ++i) REQUIRE(la[i] == lb[i]);
      double moved = 0;
      for (int64_t i = t * Vp; i < (t + 1) * Vp; ++i) moved = std::max(moved, std::abs(double(la[i]) - lb[i]));
      REQUIRE(moved > 1e-3);
    }
  }
}

TEST_CASE("block recompute gives the same gradients as the plain graph", "[layers][recompute]") {
  for (std::string kind : {"ttt-linear-mamba", "transformer", "mamba"}) {
    INFO(kind);
    std::map<std::string, std::vector<float>> grads[2];
    for (int r = 0; r < 2; ++r) {
      train::LoadedModel m = train::load_model(golden_dir(kind));
      ModelConfig c = m.config;
      c.recompute_blocks = r == 1;
      CausalLM model(c);
      model.load_state_dict(m.model->state_dict(), "golden");
      std::vector<int32_t> ids(2 * 16), tg(2 * 16);
      for (size_t i = 0; i < ids.size(); ++i) {
        ids[i] = static_cast<int32_t>((i * 5 + 2) % c.vocab_size);
        tg[i] = static_cast<int32_t>((i * 3 + 1) % c.vocab_size);
      }
      Tensor loss = model.loss(ids_of(ids, 2, 16), ids_of(tg, 2, 16), Tensor::full({2, 16}, 1.0, Dtype::f32));
      autograd::backward(loss);
      for (auto* p : model.parameters()) grads[r][p->name] = p->value.grad().to_vector<float>();
    }
    for (auto& [name, g] : grads[0]) {
      INFO(name);
      REQUIRE(g == grads[1][name]);
    }
  }
}

TEST_CASE("a tiny model of each kind overfits a batch of real text", "[layers][overfit]") {
  data::Tokenizer tok = data::Tokenizer::load(std::string(TTTLM_SOURCE_DIR) + "/tests/data/fixtures/tiny_bpe.model");
  std::string text;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(TTTLM_SOURCE_DIR) + "/tests/data/fixtures/text")) {
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    break;
  }
  std::vector<int32_t> toks = tok.encode(text.substr(0, 20000));
  const int64_t B = 2, T = 32;
  REQUIRE(static_cast<int64_t>(toks.size()) > B * (T + 1));
  std::vector<int32_t> in, tg;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      in.push_back(toks[b * (T + 1) + t]);
      tg.push_back(toks[b * (T + 1) + t + 1]);
    }
  for (const std::string& kind : model_kind_names()) {
    INFO(kind);
    train::LoadedModel g = train::load_model(golden_dir(kind));
    ModelConfig c = g.config;
    c.vocab_size = tok.vocab_size();
    CausalLM model(c);
    model.materialize(cpu_device(), 7);
    train::OptimizerConfig oc;
    oc.weight_decay = 0.0;
    train::AdamW opt(model.parameters(), oc);
    Tensor mask = Tensor::full({B, T}, 1.0, Dtype::f32);
    double first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
      Tensor loss = model.loss(ids_of(in, B, T), ids_of(tg, B, T), mask);
      autograd::backward(loss);
      opt.clip_grad_norm(1.0);
      opt.step(1e-2);
      opt.zero_grad();
      (step == 0 ? first : last) = loss.item();
    }
    INFO("loss " << first << " -> " << last);
    REQUIRE(first > 5.0);         // about ln(1000) = 6.9 at init
    REQUIRE(last < 0.5 * first);  // memorised
  }
}
