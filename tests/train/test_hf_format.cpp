// Export to the official PyTorch TTT model's format and import back (docs/spec/ttt.md Appendix A).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "train/hf_format.h"
#include "train/model_io.h"
#include "train/safetensors.h"

using namespace tttlm;
using namespace tttlm::train;
namespace fs = std::filesystem;

namespace {
std::string golden(const std::string& kind) { return std::string(TTTLM_SOURCE_DIR) + "/tests/golden/" + kind; }
}  // namespace

TEST_CASE("export writes TTTForCausalLM names, shapes and config; import of export is exact", "[train][hf]") {
  for (std::string kind : {"ttt-linear-mamba", "ttt-mlp-mamba", "ttt-linear-transformer", "ttt-mlp-transformer"}) {
    INFO(kind);
    fs::path out = fs::temp_directory_path() / ("tttlm_hf_" + kind), back = out.string() + "_back";
    fs::remove_all(out);
    fs::remove_all(back);
    export_hf(golden(kind), out.string());
    std::ifstream cf(out / "config.json");
    nlohmann::json cfg = nlohmann::json::parse(cf);
    const bool mamba = kind.find("mamba") != std::string::npos, mlp = kind.find("mlp") != std::string::npos;
    REQUIRE(cfg["ttt_layer_type"] == (mlp ? "mlp" : "linear"));
    REQUIRE(cfg["share_qk"] == mamba);
    REQUIRE(cfg["use_gate"] == mamba);
    REQUIRE(cfg["pre_conv"] == mamba);
    auto hf = load_safetensors((out / "model.safetensors").string()).tensors;
    const int64_t C = 32, H = 4, D = 8, I = 48, K = 4, V = 61;
    const std::string s = "model.layers.1.seq_modeling_block.";
    REQUIRE(hf.at("model.embed_tokens.weight").shape() == Shape{V, C});
    REQUIRE(hf.at("lm_head.weight").shape() == Shape{V, C});
    REQUIRE(hf.at("model.layers.0.mlp.gate_proj.weight").shape() == Shape{I, C});
    REQUIRE(hf.at("model.layers.0.mlp.down_proj.weight").shape() == Shape{C, I});
    REQUIRE(hf.at(s + "q_proj.weight").shape() == Shape{C, C});
    REQUIRE(hf.at(s + "learnable_ttt_lr_weight").shape() == Shape{H, 1, C});
    REQUIRE(hf.at(s + "learnable_ttt_lr_bias").shape() == Shape{H, 1});
    REQUIRE(hf.at(s + "ttt_norm_weight").shape() == Shape{H, D});
    REQUIRE(hf.at(s + "W1").shape() == Shape{H, D, mlp ? 4 * D : D});
    REQUIRE(hf.at(s + "b1").shape() == Shape{H, 1, mlp ? 4 * D : D});
    REQUIRE(hf.count(s + "k_proj.weight") == (mamba ? 0u : 1u));
    if (mamba) {
      REQUIRE(hf.at(s + "conv_q.weight").shape() == Shape{C, 1, K});
      REQUIRE(hf.at("model.layers.0.conv.conv.weight").shape() == Shape{C, 1, K});
      REQUIRE(hf.at(s + "g_proj.weight").shape() == Shape{C, C});
    }
    // A transposed Linear: PT q_proj.weight[o, i] = our wq[i, o].
    LoadedModel m = load_model(golden(kind));
    auto ours = m.model->state_dict();
    Tensor wq = ours.at("layers.1.seq_modeling_block.wq.weight");
    REQUIRE(hf.at(s + "q_proj.weight").at({3, 5}) == wq.at({5, 3}));
    import_hf(out.string(), back.string());
    LoadedModel r = load_model(back.string());
    auto again = r.model->state_dict();
    REQUIRE(again.size() == ours.size());
    for (const auto& [name, t] : ours) {
      INFO(name);
      REQUIRE(again.at(name).to_vector<float>() == t.to_vector<float>());
    }
    fs::remove_all(out);
    fs::remove_all(back);
  }
}

TEST_CASE("the TTT format refuses a kind the official model cannot express", "[train][hf]") {
  LoadedModel m = load_model(golden("transformer"));
  REQUIRE_THROWS_WITH(hf_config(m.config), Catch::Contains("cannot express a transformer"));
  REQUIRE_THROWS_WITH(to_hf(m.config, m.model->state_dict()), Catch::Contains("cannot express a transformer"));
}

TEST_CASE("a checkpoint with a missing tensor or a wrong shape names it", "[train][hf]") {
  LoadedModel m = load_model(golden("ttt-linear-mamba"));
  auto sd = m.model->state_dict();
  auto missing = sd;
  missing.erase("layers.0.seq_norm.weight");
  REQUIRE_THROWS_WITH(
      m.model->load_state_dict(missing, "x.safetensors"),
      Catch::Contains("x.safetensors") && Catch::Contains("missing tensor \"layers.0.seq_norm.weight\""));
  auto wrong = sd;
  wrong["norm.weight"] = Tensor::zeros({5}, Dtype::f32);
  REQUIRE_THROWS_WITH(m.model->load_state_dict(wrong, "y.safetensors"),
                      Catch::Contains("\"norm.weight\" has shape (5), expected (32)"));
}

TEST_CASE("import refuses weights that config.json does not describe, instead of dropping or casting them",
          "[train][hf][robust]") {
  fs::path out = fs::temp_directory_path() / "tttlm_hf_consistency", back = out.string() + "_back";
  fs::remove_all(out);
  export_hf(golden("ttt-linear-mamba"), out.string());
  const std::string cfg_path = (out / "config.json").string(), st = (out / "model.safetensors").string();
  const nlohmann::json cfg = nlohmann::json::parse(std::ifstream(cfg_path));
  const auto tensors = load_safetensors(st).tensors;
  auto with_config = [&](const char* key, const nlohmann::json& v) {
    nlohmann::json c = cfg;
    c[key] = v;
    std::ofstream(cfg_path) << c.dump();
  };
  auto import_says = [&](const std::string& text) {
    fs::remove_all(back);
    REQUIRE_THROWS_WITH(import_hf(out.string(), back.string()), Catch::Contains(text));
    REQUIRE_FALSE(fs::exists(back / "model.safetensors"));
  };
  // One layer fewer in config.json: layer 1's tensors would be dropped.
  with_config("num_hidden_layers", 1);
  import_says("has no place for: \"model.layers.1.");
  // pre_conv false while the file holds the pre-conv weights.
  with_config("pre_conv", false);
  import_says("\"model.layers.0.conv.conv.bias\"");
  // Another architecture's config.
  with_config("architectures", nlohmann::json::array({"LlamaForCausalLM"}));
  import_says("architectures [\"LlamaForCausalLM\"] is not [\"TTTForCausalLM\"]");
  with_config("model_type", "gpt2");
  import_says("model_type \"gpt2\" is not \"ttt\"");
  with_config("model_type", "llama");  // read as a Llama, whose tensors this file does not have
  import_says("missing tensor \"model.layers.0.input_layernorm.weight\"");
  with_config("tie_word_embeddings", false);
  import_says("tie_word_embeddings false");
  std::ofstream(cfg_path) << cfg.dump();
  // An untied output head.
  auto untied = tensors;
  untied["lm_head.weight"] = ops::contiguous(ops::affine(tensors.at("lm_head.weight"), 2.0)).detach();
  save_safetensors(st, untied);
  import_says("lm_head.weight differs from model.embed_tokens.weight");
  // Integer weights are never value-cast into floats.
  auto ints = tensors;
  ints["model.norm.weight"] = ops::cast(tensors.at("model.norm.weight"), Dtype::i32);
  save_safetensors(st, ints);
  import_says("tensor \"model.norm.weight\" has dtype i32; weights must be F32, BF16 or F64");
  // A shape that config.json's model cannot hold.
  auto wide = tensors;
  wide["model.norm.weight"] = Tensor::zeros({33}, Dtype::f32);
  save_safetensors(st, wide);
  import_says("\"norm.weight\" has shape (33), but config.json's model expects (32)");
  // The untouched export still imports.
  save_safetensors(st, tensors);
  fs::remove_all(back);
  REQUIRE_NOTHROW(import_hf(out.string(), back.string()));
  fs::remove_all(out);
  fs::remove_all(back);
}

TEST_CASE("a model file with integer weights is refused, not value-cast", "[train][robust]") {
  fs::path dir = fs::temp_directory_path() / "tttlm_int_weights";
  fs::remove_all(dir);
  LoadedModel m = load_model(golden("ttt-linear-mamba"));
  auto sd = m.model->state_dict();
  sd["norm.weight"] = ops::cast(sd.at("norm.weight"), Dtype::i32);
  save_model(dir.string(), m.config, sd);
  REQUIRE_THROWS_WITH(load_model(dir.string()), Catch::Contains("\"norm.weight\" has dtype i32"));
  fs::remove_all(dir);
}

TEST_CASE("a Transformer refuses a sequence past its max_seq_len; the recurrent kinds read any length",
          "[train][robust]") {
  for (std::string kind : {"transformer", "ttt-linear-mamba", "mamba"}) {
    INFO(kind);
    LoadedModel m = load_model(golden(kind));
    const int64_t T = m.config.max_seq_len + m.config.mini_batch_size;
    Tensor ids = Tensor::zeros({1, T}, Dtype::i32);
    if (kind == "transformer")
      REQUIRE_THROWS_WITH(m.model->forward(ids, {}), Catch::Contains("a sequence of " + std::to_string(T) +
                                                                     " tokens is longer than the Transformer's "
                                                                     "model.max_seq_len = " +
                                                                     std::to_string(m.config.max_seq_len)));
    else
      REQUIRE(m.model->forward(ids, {}).shape() == Shape{1, T, m.model->embedding().shape[0]});
  }
}
