// Golden logits: tests/golden/<kind>/ holds tiny perturbed weights, token ids and the logits and loss that
// scripts/golden_reference.py (an independent float64 numpy implementation of docs/spec/ttt.md and
// docs/spec/mamba.md, primal-form TTT, sequential Mamba scan) computed for them. Regenerate with
// `python3 scripts/make_golden.py`. Our forward (dual-form TTT, fused ops) must match to 1e-4.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "data/npy.h"
#include "helpers.h"
#include "train/model_io.h"

using namespace tttlm;
namespace fs = std::filesystem;

namespace {

void check_kind(const std::string& kind) {
  fs::path dir = fs::path(TTTLM_SOURCE_DIR) / "tests/golden" / kind;
  std::ifstream mf(dir / "meta.json");
  nlohmann::json meta = nlohmann::json::parse(mf);
  REQUIRE(meta.at("format") == "tttlm-golden");
  REQUIRE(meta.at("version") == 1);
  train::LoadedModel m = train::load_model(dir.string());
  std::ifstream lf(dir / "loss.json");
  nlohmann::json losses = nlohmann::json::parse(lf);
  autograd::NoGradGuard ng;
  for (std::string suffix : {"", "_t20"}) {
    if (!fs::exists(dir / ("ids" + suffix + ".npy"))) continue;
    INFO(kind << suffix);
    Tensor ids = data::read_npy((dir / ("ids" + suffix + ".npy")).string());
    Tensor want = data::read_npy((dir / ("logits" + suffix + ".npy")).string());
    Tensor got = m.model->forward(ids);
    test::require_close(got, want, 1e-4, 1e-4, "logits");
    // The official loss on inputs ids[:, :-1] and targets ids[:, 1:], BOS targets masked.
    const int64_t B = ids.size(0), T = ids.size(1);
    Tensor in = ops::contiguous(ops::narrow(ids, 1, 0, T - 1)), tg = ops::contiguous(ops::narrow(ids, 1, 1, T - 1));
    std::vector<float> mask;
    for (int32_t t : tg.to_vector<int32_t>()) mask.push_back(t == 1 ? 0.f : 1.f);
    Tensor loss = m.model->loss(in, tg, Tensor::from_vector(mask, {B, T - 1}));
    REQUIRE(loss.item() == Approx(losses.at(suffix.empty() ? "loss" : "loss_t20").get<double>()).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("golden logits: ttt-linear-mamba", "[golden]") { check_kind("ttt-linear-mamba"); }
TEST_CASE("golden logits: ttt-mlp-mamba", "[golden]") { check_kind("ttt-mlp-mamba"); }
TEST_CASE("golden logits: ttt-linear-transformer", "[golden]") { check_kind("ttt-linear-transformer"); }
TEST_CASE("golden logits: ttt-mlp-transformer", "[golden]") { check_kind("ttt-mlp-transformer"); }
TEST_CASE("golden logits: transformer", "[golden]") { check_kind("transformer"); }
TEST_CASE("golden logits: mamba", "[golden]") { check_kind("mamba"); }
