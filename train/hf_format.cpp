#include "train/hf_format.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "core/shape.h"
#include "core/text_file.h"
#include "layers/causal_lm.h"
#include "train/hf_baselines.h"
#include "train/hf_rules.h"
#include "train/run_config.h"
#include "train/model_io.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;
using layers::ModelConfig;
using layers::ModelKind;

namespace {

using hf::Rule;
using hf::same;
constexpr auto t2 = hf::transpose2;
constexpr auto conv_to_pt = hf::conv_to_torch;
constexpr auto conv_from_pt = hf::conv_from_torch;

std::vector<Rule> rules(const ModelConfig& c) {
  std::vector<Rule> r;
  r.push_back({"embed_tokens.weight", "model.embed_tokens.weight", same, same});
  r.push_back({"norm.weight", "model.norm.weight", same, same});
  const int64_t H = c.num_heads;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    std::string o = "layers." + std::to_string(i) + ".", p = "model.layers." + std::to_string(i) + ".";
    r.push_back({o + "seq_norm.weight", p + "seq_norm.weight", same, same});
    r.push_back({o + "ffn_norm.weight", p + "ffn_norm.weight", same, same});
    r.push_back({o + "feed_forward.w1.weight", p + "mlp.gate_proj.weight", t2, t2});
    r.push_back({o + "feed_forward.w3.weight", p + "mlp.up_proj.weight", t2, t2});
    r.push_back({o + "feed_forward.w2.weight", p + "mlp.down_proj.weight", t2, t2});
    if (c.pre_conv) {
      r.push_back({o + "conv_norm.weight", p + "conv.norm.weight", same, same});
      r.push_back({o + "conv.weight", p + "conv.conv.weight", conv_to_pt, conv_from_pt});
      r.push_back({o + "conv.bias", p + "conv.conv.bias", same, same});
    }
    std::string so = o + "seq_modeling_block.", sp = p + "seq_modeling_block.";
    std::vector<std::pair<std::string, std::string>> lin = {{"wq", "q_proj"}, {"wv", "v_proj"}, {"wo", "o_proj"}};
    if (!c.share_qk) lin.push_back({"wk", "k_proj"});
    if (c.use_gate) lin.push_back({"wg", "g_proj"});
    for (auto& [a, b] : lin) r.push_back({so + a + ".weight", sp + b + ".weight", t2, t2});
    if (c.share_qk)
      for (std::string cv : {"conv_q", "conv_k"}) {
        r.push_back({so + cv + ".weight", sp + cv + ".weight", conv_to_pt, conv_from_pt});
        r.push_back({so + cv + ".bias", sp + cv + ".bias", same, same});
      }
    r.push_back({so + "learnable_token_idx", sp + "learnable_token_idx", same, same});
    r.push_back({so + "learnable_ttt_lr_weight", sp + "learnable_ttt_lr_weight",
                 [H](const Tensor& x) {
                   return ops::reshape(x, {H, 1, x.size(1)});
                 },
                 [H](const Tensor& x) {
                   return ops::reshape(x, {H, x.size(2)});
                 }});
    r.push_back({so + "learnable_ttt_lr_bias", sp + "learnable_ttt_lr_bias",
                 [H](const Tensor& x) {
                   return ops::reshape(x, {H, 1});
                 },
                 [H](const Tensor& x) { return ops::reshape(x, {H}); }});
    r.push_back({so + "ttt_norm_weight", sp + "ttt_norm_weight", same, same});
    r.push_back({so + "ttt_norm_bias", sp + "ttt_norm_bias", same, same});
    r.push_back({so + "post_norm.weight", sp + "post_norm.weight", same, same});
    r.push_back({so + "post_norm.bias", sp + "post_norm.bias", same, same});
    auto bias_to = [H](const Tensor& x) { return ops::reshape(x, {H, 1, x.size(1)}); };
    auto bias_from = [H](const Tensor& x) { return ops::reshape(x, {H, x.size(2)}); };
    r.push_back({so + "W1", sp + "W1", same, same});
    r.push_back({so + "b1", sp + "b1", bias_to, bias_from});
    if (layers::is_ttt_mlp(c.kind)) {
      r.push_back({so + "W2", sp + "W2", same, same});
      r.push_back({so + "b2", sp + "b2", bias_to, bias_from});
    }
  }
  return r;
}

void require_ttt(const ModelConfig& c) {
  TTT_CHECK(layers::is_ttt(c.kind), "[export] the official PyTorch TTT model cannot express a ",
            layers::model_kind_names()[static_cast<int>(c.kind)], " model (only ttt-linear/mlp-mamba/transformer)");
}

}  // namespace

nlohmann::json hf_config(const ModelConfig& c) {
  require_ttt(c);
  bool mamba = layers::is_mamba_backbone(c.kind);
  TTT_CHECK(c.share_qk == mamba && c.use_gate == mamba,
            "[export] PT expresses share_qk and use_gate only together with "
            "the backbone (Mamba: both true; Transformer: both false)");
  return {{"architectures", {"TTTForCausalLM"}},
          {"model_type", "ttt"},
          {"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_hidden_layers", c.num_layers},
          {"num_attention_heads", c.num_heads},
          {"hidden_act", "silu"},
          {"max_position_embeddings", c.max_seq_len},
          {"initializer_range", c.initializer_range},
          {"rms_norm_eps", c.rms_norm_eps},
          {"use_cache", false},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"pretraining_tp", 1},
          {"tie_word_embeddings", true},
          {"rope_theta", c.rope_theta},
          {"use_gate", c.use_gate},
          {"share_qk", c.share_qk},
          {"ttt_layer_type", layers::is_ttt_mlp(c.kind) ? "mlp" : "linear"},
          {"ttt_base_lr", c.ttt_base_lr},
          {"mini_batch_size", c.mini_batch_size},
          {"pre_conv", c.pre_conv},
          {"conv_kernel", c.conv_width},
          {"scan_checkpoint_group_size", 0}};
}

ModelConfig from_hf_config(const nlohmann::json& j, const std::string& source) {
  const hf::Keys k(j, source);  // typed reads: a wrong type names the file, the key, the type and the value
  auto str = [&](const char* key) { return k.text(key); };
  auto flag = [&](const char* key) { return k.flag(key); };
  auto integer = [&](const char* key) { return k.integer(key); };
  auto integer_or = [&](const char* key, int64_t def) { return k.integer_or(key, def); };
  auto number_or = [&](const char* key, double def) { return k.number_or(key, def); };
  // A config.json of another architecture (a Llama, a Mamba) may share most keys; refuse it by name.
  if (j.contains("model_type"))
    TTT_CHECK(j["model_type"] == "ttt", "[import] ", source, ": model_type ", j["model_type"].dump(),
              " is not \"ttt\" (the official TTTForCausalLM format)");
  if (j.contains("architectures")) {
    const auto& a = j["architectures"];
    TTT_CHECK(a.is_array() && a.size() == 1 && a[0] == "TTTForCausalLM", "[import] ", source, ": architectures ",
              a.dump(), " is not [\"TTTForCausalLM\"]");
  }
  if (j.contains("tie_word_embeddings"))
    TTT_CHECK(j["tie_word_embeddings"] == true, "[import] ", source, ": tie_word_embeddings ",
              j["tie_word_embeddings"].dump(), ": tttlm models tie the output head to the embedding");
  ModelConfig c;
  std::string type = str("ttt_layer_type");
  bool mamba = flag("share_qk");
  TTT_CHECK(type == "linear" || type == "mlp", "[import] ", source, ": ttt_layer_type \"", type,
            "\" is not linear or mlp");
  c.kind = type == "linear" ? (mamba ? ModelKind::ttt_linear_mamba : ModelKind::ttt_linear_transformer)
                            : (mamba ? ModelKind::ttt_mlp_mamba : ModelKind::ttt_mlp_transformer);
  c.vocab_size = integer("vocab_size");
  c.hidden_size = integer("hidden_size");
  c.intermediate_size = integer("intermediate_size");
  c.num_layers = integer("num_hidden_layers");
  c.num_heads = integer("num_attention_heads");
  c.max_seq_len = integer_or("max_position_embeddings", 2048);
  c.initializer_range = number_or("initializer_range", 0.02);
  c.rms_norm_eps = number_or("rms_norm_eps", 1e-6);
  c.rope_theta = number_or("rope_theta", 10000.0);
  c.share_qk = mamba;
  c.use_gate = flag("use_gate");
  c.pre_conv = flag("pre_conv");
  c.conv_width = integer_or("conv_kernel", 4);
  c.mini_batch_size = integer_or("mini_batch_size", 16);
  c.ttt_base_lr = number_or("ttt_base_lr", 1.0);
  c.validate(source);
  return c;
}

std::map<std::string, Tensor> to_hf(const ModelConfig& c, const std::map<std::string, Tensor>& ours) {
  require_ttt(c);
  return hf::to_theirs(rules(c), ours, "model.embed_tokens.weight",
                       "lm_head.weight");  // tied (docs/spec/ttt.md §9 item 19)
}

std::map<std::string, Tensor> from_hf(const ModelConfig& c, const std::map<std::string, Tensor>& hf,
                                      const std::string& source) {
  const std::string summary = std::string("num_hidden_layers ") + std::to_string(c.num_layers) + ", pre_conv " +
                              (c.pre_conv ? "true" : "false") + ", share_qk " + (c.share_qk ? "true" : "false") +
                              ", use_gate " + (c.use_gate ? "true" : "false");
  return hf::from_theirs(c, rules(c), hf, source, "model.embed_tokens.weight", "lm_head.weight", summary);
}

ExportResult export_hf(const std::string& checkpoint_dir, const std::string& out_dir, const std::string& tokenizer) {
  LoadedModel m = load_model(checkpoint_dir);
  const ModelConfig& c = m.config;
  ExportResult r;
  nlohmann::json config;
  std::map<std::string, Tensor> tensors;
  if (c.kind == ModelKind::transformer) {
    r.architecture = "LlamaForCausalLM";
    config = llama_config(c);
    tensors = to_llama(c, m.model->state_dict());
  } else if (c.kind == ModelKind::mamba) {
    r.architecture = "MambaForCausalLM";
    config = mamba_config(c);
    tensors = to_mamba(c, m.model->state_dict());
  } else {
    r.architecture = "TTTForCausalLM";
    config = hf_config(c);
    tensors = to_hf(c, m.model->state_dict());
  }
  // The tokenizer: --tokenizer, else the run's data.tokenizer when the checkpoint belongs to a run.
  std::string tok = tokenizer;
  if (tok.empty()) {
    const std::string run_cfg = run_config_path(checkpoint_dir);
    if (!run_cfg.empty()) {
      try {
        tok = load_run_config(run_cfg).data.tokenizer;
      } catch (const std::exception&) {  // a model directory's config.json holds only the model
      }
    }
    if (!tok.empty() && !fs::is_regular_file(tok)) tok.clear();
  } else {
    TTT_CHECK(fs::is_regular_file(tok), "[export] --tokenizer ", tok, ": no such file");
  }
  fs::create_directories(out_dir);
  write_file_atomic((fs::path(out_dir) / "config.json").string(), config.dump(2) + "\n");
  save_safetensors((fs::path(out_dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  if (!tok.empty()) {
    fs::copy_file(tok, fs::path(out_dir) / "tokenizer.model", fs::copy_options::overwrite_existing);
    // transformers' LlamaTokenizer reads a SentencePiece model; BOS is prepended as in training.
    const nlohmann::json tc = {
        {"tokenizer_class", "LlamaTokenizer"}, {"add_bos_token", true}, {"add_eos_token", false}};
    write_file_atomic((fs::path(out_dir) / "tokenizer_config.json").string(), tc.dump(2) + "\n");
    r.tokenizer = (fs::path(out_dir) / "tokenizer.model").string();
  }
  return r;
}

void import_hf(const std::string& hf_dir, const std::string& out_dir) {
  const std::string cfg = (fs::path(hf_dir) / "config.json").string();
  TTT_CHECK(fs::exists(cfg), "[import] ", hf_dir, ": no config.json");
  nlohmann::json j = read_json_file(cfg, "[import]");
  const std::string st = (fs::path(hf_dir) / "model.safetensors").string();
  const std::string type = j.is_object() && j.contains("model_type") && j["model_type"].is_string()
                               ? j["model_type"].get<std::string>()
                               : "ttt";
  ModelConfig c;
  std::map<std::string, Tensor> tensors;
  if (type == "llama") {
    c = from_llama_config(j, cfg);
    tensors = from_llama(c, load_safetensors(st).tensors, st);
  } else if (type == "mamba") {
    c = from_mamba_config(j, cfg);
    tensors = from_mamba(c, load_safetensors(st).tensors, st);
  } else {
    c = from_hf_config(j, cfg);  // refuses any other model_type, naming it
    tensors = from_hf(c, load_safetensors(st).tensors, st);
  }
  save_model(out_dir, c, tensors);
}

}  // namespace tttlm::train
