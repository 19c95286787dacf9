#include "layers/model_config.h"

#include <cmath>
#include <sstream>

#include "core/config_reader.h"

namespace tttlm::layers {

const std::vector<std::string>& model_kind_names() {
  static const std::vector<std::string> names = {"ttt-linear-mamba",    "ttt-mlp-mamba", "ttt-linear-transformer",
                                                 "ttt-mlp-transformer", "transformer",   "mamba"};
  return names;
}

int64_t ModelConfig::padded_vocab() const {
  if (kind != ModelKind::mamba) return vocab_size;
  int64_t m = mamba.pad_vocab_multiple;
  return (vocab_size + m - 1) / m * m;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& file) {
  ModelConfig c;
  ConfigReader r(j, "model", file);
  r.read_enum("kind", c.kind, model_kind_names());
  bool mamba_backbone = is_mamba_backbone(c.kind);
  c.pre_conv = c.share_qk = c.use_gate = mamba_backbone;
  if (c.kind == ModelKind::mamba) c.rms_norm_eps = 1e-5;
  r.read("vocab_size", c.vocab_size);
  r.read("hidden_size", c.hidden_size);
  r.read("intermediate_size", c.intermediate_size);
  r.read("num_layers", c.num_layers);
  r.read("num_heads", c.num_heads);
  r.read("max_seq_len", c.max_seq_len);
  r.read("rms_norm_eps", c.rms_norm_eps);
  r.read("initializer_range", c.initializer_range);
  r.read("rope_theta", c.rope_theta);
  r.read("tie_word_embeddings", c.tie_word_embeddings);
  r.read("pre_conv", c.pre_conv);
  r.read("share_qk", c.share_qk);
  r.read("use_gate", c.use_gate);
  r.read("conv_width", c.conv_width);
  r.read("mini_batch_size", c.mini_batch_size);
  r.read("ttt_base_lr", c.ttt_base_lr);
  r.read("ttt_base_lr_init", c.ttt_base_lr_init);
  r.read("ttt_base_lr_warmup", c.ttt_base_lr_warmup);
  // "checkpoint_every" is this key's name before 2026-12: still read (configs, run directories and
  // checkpoints written then), never written. "checkpoint" now means a run snapshot on disk only.
  TTT_CHECK(!(r.has("inner_snapshot_every") && r.has("checkpoint_every")), "[config] ", file,
            ": model.checkpoint_every is the old name of model.inner_snapshot_every; give only the latter");
  r.read(r.has("checkpoint_every") ? "checkpoint_every" : "inner_snapshot_every", c.inner_snapshot_every);
  r.read("recompute_blocks", c.recompute_blocks);
  ConfigReader m = r.section("mamba");
  m.read("d_state", c.mamba.d_state);
  m.read("d_conv", c.mamba.d_conv);
  m.read("expand", c.mamba.expand);
  m.read("dt_rank", c.mamba.dt_rank);
  m.read("dt_min", c.mamba.dt_min);
  m.read("dt_max", c.mamba.dt_max);
  m.read("dt_init_floor", c.mamba.dt_init_floor);
  m.read("pad_vocab_multiple", c.mamba.pad_vocab_multiple);
  m.read("decay_a_log_and_d", c.mamba.decay_a_log_and_d);
  m.read("scan_chunk", c.mamba.scan_chunk);
  m.finish();
  r.finish();
  c.validate(file);
  return c;
}

nlohmann::json ModelConfig::with_current_names(nlohmann::json j) {
  if (j.is_object() && j.contains("checkpoint_every") && !j.contains("inner_snapshot_every")) {
    j["inner_snapshot_every"] = j["checkpoint_every"];
    j.erase("checkpoint_every");
  }
  return j;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"kind", model_kind_names()[static_cast<int>(kind)]},
                      {"vocab_size", vocab_size},
                      {"hidden_size", hidden_size},
                      {"intermediate_size", intermediate_size},
                      {"num_layers", num_layers},
                      {"num_heads", num_heads},
                      {"max_seq_len", max_seq_len},
                      {"rms_norm_eps", rms_norm_eps},
                      {"initializer_range", initializer_range},
                      {"rope_theta", rope_theta},
                      {"tie_word_embeddings", tie_word_embeddings},
                      {"pre_conv", pre_conv},
                      {"share_qk", share_qk},
                      {"use_gate", use_gate},
                      {"conv_width", conv_width},
                      {"mini_batch_size", mini_batch_size},
                      {"ttt_base_lr", ttt_base_lr},
                      {"ttt_base_lr_init", ttt_base_lr_init},
                      {"ttt_base_lr_warmup", ttt_base_lr_warmup},
                      {"inner_snapshot_every", inner_snapshot_every},
                      {"recompute_blocks", recompute_blocks}};
  j["mamba"] = {{"d_state", mamba.d_state},
                {"d_conv", mamba.d_conv},
                {"expand", mamba.expand},
                {"dt_rank", mamba.dt_rank},
                {"dt_min", mamba.dt_min},
                {"dt_max", mamba.dt_max},
                {"dt_init_floor", mamba.dt_init_floor},
                {"pad_vocab_multiple", mamba.pad_vocab_multiple},
                {"decay_a_log_and_d", mamba.decay_a_log_and_d},
                {"scan_chunk", mamba.scan_chunk}};
  return j;
}

void ModelConfig::validate(const std::string& file) const {
  auto fail = [&](const char* key, const std::string& what) {
    throw InvalidArgument("[config] " + file + ": model." + key + ": " + what);
  };
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) fail(key, "expected a positive integer, got " + std::to_string(v));
  };
  // Upper bounds far above any trainable model keep every size product (parameter counts, FLOPs, bytes)
  // within 64 bits and keep `tttlm info`, which declares every layer, from growing without limit.
  auto at_most = [&](const char* key, int64_t v, int64_t max) {
    if (v > max) fail(key, "expected at most " + std::to_string(max) + ", got " + std::to_string(v));
  };
  if (!tie_word_embeddings)  // refused here, so that `tttlm config` and `info` refuse it too, not only training
    fail("tie_word_embeddings", "expected true, the only supported value (every paper config ties the LM head)");
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_layers", num_layers);
  positive("max_seq_len", max_seq_len);
  at_most("vocab_size", vocab_size, int64_t{1} << 31);
  at_most("hidden_size", hidden_size, int64_t{1} << 20);
  at_most("num_layers", num_layers, int64_t{1} << 16);
  at_most("max_seq_len", max_seq_len, int64_t{1} << 24);
  at_most("intermediate_size", intermediate_size, int64_t{1} << 22);
  auto finite_positive = [&](const char* key, double v) {
    if (!(std::isfinite(v) && v > 0)) {
      std::ostringstream o;
      o << v;
      fail(key, "expected a finite number > 0, got " + o.str());
    }
  };
  finite_positive("rms_norm_eps", rms_norm_eps);
  finite_positive("initializer_range", initializer_range);
  if (kind != ModelKind::mamba) {
    positive("num_heads", num_heads);
    positive("intermediate_size", intermediate_size);
    finite_positive("rope_theta", rope_theta);
    if (hidden_size % num_heads != 0)
      fail("num_heads",
           "expected a divisor of hidden_size " + std::to_string(hidden_size) + ", got " + std::to_string(num_heads));
    if (head_dim() % 2 != 0)
      fail("num_heads", "RoPE needs an even head dimension; hidden_size / num_heads = " + std::to_string(head_dim()));
  }
  if (is_ttt(kind)) {
    positive("mini_batch_size", mini_batch_size);
    positive("conv_width", conv_width);
    positive("inner_snapshot_every", inner_snapshot_every);
    if (max_seq_len % mini_batch_size != 0)
      fail("mini_batch_size", "expected a divisor of max_seq_len " + std::to_string(max_seq_len) + ", got " +
                                  std::to_string(mini_batch_size));
    finite_positive("ttt_base_lr", ttt_base_lr);
    if (ttt_base_lr_warmup > 0 && ttt_base_lr_init <= 0)
      fail("ttt_base_lr_init", "expected > 0 when ttt_base_lr_warmup is set, got " + std::to_string(ttt_base_lr_init));
  }
  if (kind == ModelKind::mamba) {
    positive("mamba.d_state", mamba.d_state);
    positive("mamba.d_conv", mamba.d_conv);
    positive("mamba.expand", mamba.expand);
    at_most("mamba.expand", mamba.expand, 16);
    at_most("mamba.d_state", mamba.d_state, int64_t{1} << 12);
    positive("mamba.pad_vocab_multiple", mamba.pad_vocab_multiple);
    positive("mamba.scan_chunk", mamba.scan_chunk);
    if (mamba.dt_rank < 0) fail("mamba.dt_rank", "expected 0 (auto) or a positive integer");
    if (!(mamba.dt_min > 0 && mamba.dt_min <= mamba.dt_max && std::isfinite(mamba.dt_max)))
      fail("mamba.dt_min", "expected 0 < dt_min <= dt_max");
  }
}

}  // namespace tttlm::layers
