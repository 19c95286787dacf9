#include "train/hf_baselines.h"

#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "train/hf_rules.h"

namespace tttlm::train {

using layers::ModelConfig;
using layers::ModelKind;

namespace {

// Llama's q_proj/k_proj rows of head h: j < D/2 pairs with j + D/2 ("rotate_half"); ours pair (2i, 2i + 1).
// Ours (in, H·D) -> theirs (H·D, in): row h·D + p·D/2 + i of theirs = column h·D + 2i + p of ours.
Tensor qk_to_llama(const Tensor& w, int64_t heads) {
  const int64_t D = w.size(1) / heads, C = w.size(0);
  Tensor t = ops::reshape(hf::transpose2(w), {heads, D / 2, 2, C});
  return ops::reshape(ops::contiguous(ops::transpose(t, 1, 2)), {heads * D, C});
}
Tensor qk_from_llama(const Tensor& w, int64_t heads) {
  const int64_t D = w.size(0) / heads, C = w.size(1);
  Tensor t = ops::reshape(w, {heads, 2, D / 2, C});
  return hf::transpose2(ops::reshape(ops::contiguous(ops::transpose(t, 1, 2)), {heads * D, C}));
}

std::vector<hf::Rule> llama_rules(const ModelConfig& c) {
  const int64_t H = c.num_heads;
  auto qk_to = [H](const Tensor& x) { return qk_to_llama(x, H); };
  auto qk_from = [H](const Tensor& x) { return qk_from_llama(x, H); };
  std::vector<hf::Rule> r = {{"embed_tokens.weight", "model.embed_tokens.weight", hf::same, hf::same},
                             {"norm.weight", "model.norm.weight", hf::same, hf::same}};
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string o = "layers." + std::to_string(i) + ".", p = "model.layers." + std::to_string(i) + ".";
    const std::string a = o + "seq_modeling_block.";
    r.push_back({o + "seq_norm.weight", p + "input_layernorm.weight", hf::same, hf::same});
    r.push_back({o + "ffn_norm.weight", p + "post_attention_layernorm.weight", hf::same, hf::same});
    r.push_back({a + "wq.weight", p + "self_attn.q_proj.weight", qk_to, qk_from});
    r.push_back({a + "wk.weight", p + "self_attn.k_proj.weight", qk_to, qk_from});
    r.push_back({a + "wv.weight", p + "self_attn.v_proj.weight", hf::transpose2, hf::transpose2});
    r.push_back({a + "wo.weight", p + "self_attn.o_proj.weight", hf::transpose2, hf::transpose2});
    r.push_back({o + "feed_forward.w1.weight", p + "mlp.gate_proj.weight", hf::transpose2, hf::transpose2});
    r.push_back({o + "feed_forward.w3.weight", p + "mlp.up_proj.weight", hf::transpose2, hf::transpose2});
    r.push_back({o + "feed_forward.w2.weight", p + "mlp.down_proj.weight", hf::transpose2, hf::transpose2});
  }
  return r;
}

std::vector<hf::Rule> mamba_rules(const ModelConfig& c) {
  std::vector<hf::Rule> r = {{"embed_tokens.weight", "backbone.embeddings.weight", hf::same, hf::same},
                             {"norm.weight", "backbone.norm_f.weight", hf::same, hf::same}};
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string o = "layers." + std::to_string(i) + ".", p = "backbone.layers." + std::to_string(i) + ".";
    r.push_back({o + "norm.weight", p + "norm.weight", hf::same, hf::same});
    for (const char* lin : {"in_proj", "x_proj", "dt_proj", "out_proj"})
      r.push_back({o + "mixer." + lin + ".weight", p + "mixer." + lin + ".weight", hf::transpose2, hf::transpose2});
    r.push_back({o + "mixer.conv1d.weight", p + "mixer.conv1d.weight", hf::conv_to_torch, hf::conv_from_torch});
    for (const char* v : {"conv1d.bias", "dt_proj.bias", "A_log", "D"})
      r.push_back({o + "mixer." + v, p + "mixer." + v, hf::same, hf::same});
  }
  return r;
}

void require_kind(const ModelConfig& c, ModelKind kind, const char* format) {
  TTT_CHECK(c.kind == kind, "[export] ", format, " holds a ", layers::model_kind_names()[static_cast<int>(kind)],
            " model, not a ", layers::model_kind_names()[static_cast<int>(c.kind)]);
}

}  // namespace

nlohmann::json llama_config(const ModelConfig& c) {
  require_kind(c, ModelKind::transformer, "LlamaForCausalLM");
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_hidden_layers", c.num_layers},
          {"num_attention_heads", c.num_heads},
          {"num_key_value_heads", c.num_heads},
          {"head_dim", c.head_dim()},
          {"hidden_act", "silu"},
          {"max_position_embeddings", c.max_seq_len},
          {"initializer_range", c.initializer_range},
          {"rms_norm_eps", c.rms_norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", nullptr},
          {"attention_bias", false},
          {"mlp_bias", false},
          {"tie_word_embeddings", true},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"torch_dtype", "float32"}};
}

std::map<std::string, Tensor> to_llama(const ModelConfig& c, const std::map<std::string, Tensor>& ours) {
  require_kind(c, ModelKind::transformer, "LlamaForCausalLM");
  return hf::to_theirs(llama_rules(c), ours, "model.embed_tokens.weight", "lm_head.weight");
}

ModelConfig from_llama_config(const nlohmann::json& j, const std::string& source) {
  hf::Keys k(j, source);
  k.require("hidden_act", "silu", true, "tttlm's MLP is SwiGLU");
  k.require("attention_bias", false, true, "tttlm's projections have no bias");
  k.require("mlp_bias", false, true, "tttlm's projections have no bias");
  k.require("tie_word_embeddings", true, false, "tttlm ties the output head to the embedding");
  k.require_absent("rope_scaling", "tttlm's RoPE has no scaling");
  ModelConfig c;
  c.kind = ModelKind::transformer;
  c.vocab_size = k.integer("vocab_size");
  c.hidden_size = k.integer("hidden_size");
  c.intermediate_size = k.integer("intermediate_size");
  c.num_layers = k.integer("num_hidden_layers");
  c.num_heads = k.integer("num_attention_heads");
  TTT_CHECK(k.integer_or("num_key_value_heads", c.num_heads) == c.num_heads, "[import] ", source,
            ": num_key_value_heads ", k.integer("num_key_value_heads"), " differs from num_attention_heads ",
            c.num_heads, " (grouped-query attention is not supported)");
  TTT_CHECK(k.integer_or("head_dim", c.head_dim()) * c.num_heads == c.hidden_size, "[import] ", source, ": head_dim ",
            k.integer_or("head_dim", 0), " x num_attention_heads ", c.num_heads, " is not hidden_size ", c.hidden_size);
  c.max_seq_len = k.integer_or("max_position_embeddings", 2048);
  c.initializer_range = k.number_or("initializer_range", 0.02);
  c.rms_norm_eps = k.number_or("rms_norm_eps", 1e-6);
  c.rope_theta = k.number_or("rope_theta", 10000.0);
  c.pre_conv = c.share_qk = c.use_gate = false;
  c.validate(source);
  return c;
}

std::map<std::string, Tensor> from_llama(const ModelConfig& c, const std::map<std::string, Tensor>& theirs,
                                         const std::string& source) {
  return hf::from_theirs(c, llama_rules(c), theirs, source, "model.embed_tokens.weight", "lm_head.weight",
                         "num_hidden_layers " + std::to_string(c.num_layers));
}

nlohmann::json mamba_config(const ModelConfig& c) {
  require_kind(c, ModelKind::mamba, "MambaForCausalLM");
  return {{"architectures", {"MambaForCausalLM"}},
          {"model_type", "mamba"},
          {"vocab_size", c.padded_vocab()},
          {"pad_vocab_size_multiple", c.mamba.pad_vocab_multiple},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.mamba_inner()},
          {"state_size", c.mamba.d_state},
          {"num_hidden_layers", c.num_layers},
          {"layer_norm_epsilon", c.rms_norm_eps},
          {"expand", c.mamba.expand},
          {"conv_kernel", c.mamba.d_conv},
          {"use_bias", false},
          {"use_conv_bias", true},
          {"hidden_act", "silu"},
          {"initializer_range", c.initializer_range},
          {"residual_in_fp32", true},
          {"time_step_rank", c.mamba_dt_rank()},
          {"time_step_scale", 1.0},
          {"time_step_min", c.mamba.dt_min},
          {"time_step_max", c.mamba.dt_max},
          {"time_step_init_scheme", "random"},
          {"time_step_floor", c.mamba.dt_init_floor},
          {"rescale_prenorm_residual", false},
          {"tie_word_embeddings", true},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"torch_dtype", "float32"},
          {"tttlm_vocab_size", c.vocab_size},
          {"tttlm_max_seq_len", c.max_seq_len}};
}

std::map<std::string, Tensor> to_mamba(const ModelConfig& c, const std::map<std::string, Tensor>& ours) {
  require_kind(c, ModelKind::mamba, "MambaForCausalLM");
  return hf::to_theirs(mamba_rules(c), ours, "backbone.embeddings.weight", "lm_head.weight");
}

ModelConfig from_mamba_config(const nlohmann::json& j, const std::string& source) {
  hf::Keys k(j, source);
  k.require("hidden_act", "silu", true, "Mamba's gate and conv activation");
  k.require("use_bias", false, true, "tttlm's Mamba projections have no bias");
  k.require("use_conv_bias", true, true, "tttlm's Mamba conv has a bias");
  k.require("tie_word_embeddings", true, true, "tttlm ties the output head to the embedding");
  ModelConfig c;
  c.kind = ModelKind::mamba;
  const int64_t rows = k.integer("vocab_size");
  c.vocab_size = k.integer_or("tttlm_vocab_size", rows);
  c.hidden_size = k.integer("hidden_size");
  c.num_layers = k.integer("num_hidden_layers");
  c.max_seq_len = k.integer_or("tttlm_max_seq_len", 2048);
  c.rms_norm_eps = k.number_or("layer_norm_epsilon", 1e-5);
  c.initializer_range = k.number_or("initializer_range", 0.02);
  c.mamba.d_state = k.integer("state_size");
  c.mamba.expand = k.integer("expand");
  c.mamba.d_conv = k.integer("conv_kernel");
  c.mamba.dt_rank = k.integer("time_step_rank");
  c.mamba.dt_min = k.number_or("time_step_min", c.mamba.dt_min);
  c.mamba.dt_max = k.number_or("time_step_max", c.mamba.dt_max);
  c.mamba.dt_init_floor = k.number_or("time_step_floor", c.mamba.dt_init_floor);
  c.mamba.pad_vocab_multiple = k.integer_or("pad_vocab_size_multiple", 8);
  TTT_CHECK(k.integer_or("intermediate_size", c.mamba_inner()) == c.mamba_inner(), "[import] ", source,
            ": intermediate_size ", k.integer_or("intermediate_size", 0),
            " is not expand x hidden_size = ", c.mamba_inner());
  c.pre_conv = c.share_qk = c.use_gate = false;
  c.validate(source);
  TTT_CHECK(c.padded_vocab() == rows, "[import] ", source, ": vocab_size ", rows, " is not the vocabulary ",
            c.vocab_size, " padded to a multiple of pad_vocab_size_multiple ", c.mamba.pad_vocab_multiple);
  return c;
}

std::map<std::string, Tensor> from_mamba(const ModelConfig& c, const std::map<std::string, Tensor>& theirs,
                                         const std::string& source) {
  return hf::from_theirs(c, mamba_rules(c), theirs, source, "backbone.embeddings.weight", "lm_head.weight",
                         "num_hidden_layers " + std::to_string(c.num_layers));
}

}  // namespace tttlm::train
