#include "train/hf_format.h"

#include <filesystem>
#include <fstream>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "train/model_io.h"
#include "train/safetensors.h"

namespace tttlm::train {

namespace fs = std::filesystem;
using layers::ModelConfig;
using layers::ModelKind;

namespace {

Tensor t2(const Tensor& x) { return ops::contiguous(ops::transpose(x, 0, 1)); }
// (K, C) <-> (C, 1, K)
Tensor conv_to_pt(const Tensor& x) { return ops::reshape(t2(x), {x.size(1), 1, x.size(0)}); }
Tensor conv_from_pt(const Tensor& x) { return t2(ops::reshape(x, {x.size(0), x.size(2)})); }

// One mapping rule: our name, PT name, ours->PT, PT->ours.
struct Rule {
  std::string ours, pt;
  std::function<Tensor(const Tensor&)> to_pt, from_pt;
};

std::vector<Rule> rules(const ModelConfig& c) {
  auto same = [](const Tensor& x) { return x; };
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
                 [H](const Tensor& x) { return ops::reshape(x, {H, 1, x.size(1)}); },
                 [H](const Tensor& x) { return ops::reshape(x, {H, x.size(2)}); }});
    r.push_back({so + "learnable_ttt_lr_bias", sp + "learnable_ttt_lr_bias",
                 [H](const Tensor& x) { return ops::reshape(x, {H, 1}); }, [H](const Tensor& x) { return ops::reshape(x, {H}); }});
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
  TTT_CHECK(c.share_qk == mamba && c.use_gate == mamba, "[export] PT expresses share_qk and use_gate only together with "
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
  TTT_CHECK(j.is_object(), "[import] ", source, ": expected a JSON object; found ", j.dump().substr(0, 200));
  // Typed reads: a key of the wrong type is an error naming the file, the key, the type and the value.
  auto typed = [&](const char* k, bool ok, const char* type) -> const nlohmann::json& {
    TTT_CHECK(ok, "[import] ", source, ": key \"", k, "\": expected ", type, "; found ", j.at(k).dump());
    return j.at(k);
  };
  auto get = [&](const char* k) -> const nlohmann::json& {
    TTT_CHECK(j.contains(k), "[import] ", source, ": config.json has no \"", k, "\"");
    return j.at(k);
  };
  auto str = [&](const char* k) { return typed(k, get(k).is_string(), "a string").get<std::string>(); };
  auto flag = [&](const char* k) { return typed(k, get(k).is_boolean(), "true or false").get<bool>(); };
  auto integer = [&](const char* k) { return typed(k, get(k).is_number_integer(), "an integer").get<int64_t>(); };
  auto integer_or = [&](const char* k, int64_t def) { return j.contains(k) ? integer(k) : def; };
  auto number_or = [&](const char* k, double def) {
    return j.contains(k) ? typed(k, j.at(k).is_number(), "a number").get<double>() : def;
  };
  ModelConfig c;
  std::string type = str("ttt_layer_type");
  bool mamba = flag("share_qk");
  TTT_CHECK(type == "linear" || type == "mlp", "[import] ", source, ": ttt_layer_type \"", type, "\" is not linear or mlp");
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
  autograd::NoGradGuard ng;
  std::map<std::string, Tensor> out;
  for (const Rule& r : rules(c)) {
    auto it = ours.find(r.ours);
    TTT_CHECK(it != ours.end(), "[export] missing tensor \"", r.ours, "\"");
    out[r.pt] = ops::contiguous(r.to_pt(it->second.detach())).detach();
  }
  out["lm_head.weight"] = out["model.embed_tokens.weight"];  // tied (ttt-spec Gotcha 19)
  return out;
}

std::map<std::string, Tensor> from_hf(const ModelConfig& c, const std::map<std::string, Tensor>& hf, const std::string& source) {
  autograd::NoGradGuard ng;
  std::map<std::string, Tensor> out;
  for (const Rule& r : rules(c)) {
    auto it = hf.find(r.pt);
    TTT_CHECK(it != hf.end(), "[import] ", source, ": missing tensor \"", r.pt, "\"");
    out[r.ours] = ops::contiguous(ops::cast(r.from_pt(it->second.detach()), Dtype::f32)).detach();
  }
  return out;
}

void export_hf(const std::string& checkpoint_dir, const std::string& out_dir) {
  LoadedModel m = load_model(checkpoint_dir);
  fs::create_directories(out_dir);
  write_file_atomic((fs::path(out_dir) / "config.json").string(), hf_config(m.config).dump(2) + "\n");  // errors are reported
  save_safetensors((fs::path(out_dir) / "model.safetensors").string(), to_hf(m.config, m.model->state_dict()),
                   {{"format", "pt"}});
}

void import_hf(const std::string& hf_dir, const std::string& out_dir) {
  std::ifstream f((fs::path(hf_dir) / "config.json").string());
  TTT_CHECK(f.good(), "[import] ", hf_dir, ": no config.json");
  const std::string cfg = (fs::path(hf_dir) / "config.json").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::parse_error& e) {
    throw InvalidArgument("[import] " + cfg + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range 406: a number beyond double's range (1e999)
    throw InvalidArgument("[import] " + cfg + ": invalid JSON: " + e.what());
  }
  ModelConfig c = from_hf_config(j, cfg);
  std::string st = (fs::path(hf_dir) / "model.safetensors").string();
  auto tensors = from_hf(c, load_safetensors(st).tensors, st);
  save_model(out_dir, c, tensors);
}

}  // namespace tttlm::train
