// ModelConfig: the `model` section of a run config, one typed struct for the six model kinds of the
// paper's scaling study. Defaults follow docs/spec/ttt.md §1 (TTT and Transformer) and docs/spec/mamba.md §1
// (Mamba); per-kind defaults (pre_conv, share_qk, use_gate) are applied when the key is absent.
// validate() rejects impossible shapes before anything is allocated, naming the file and the key.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tttlm::layers {

enum class ModelKind {
  ttt_linear_mamba,
  ttt_mlp_mamba,
  ttt_linear_transformer,
  ttt_mlp_transformer,
  transformer,
  mamba
};
const std::vector<std::string>& model_kind_names();  // "ttt-linear-mamba", ...
inline bool is_ttt(ModelKind k) { return k != ModelKind::transformer && k != ModelKind::mamba; }
inline bool is_ttt_mlp(ModelKind k) { return k == ModelKind::ttt_mlp_mamba || k == ModelKind::ttt_mlp_transformer; }
inline bool is_mamba_backbone(ModelKind k) { return k == ModelKind::ttt_linear_mamba || k == ModelKind::ttt_mlp_mamba; }

struct MambaConfig {
  int64_t d_state = 16;
  int64_t d_conv = 4;
  int64_t expand = 2;
  int64_t dt_rank = 0;  // 0 = "auto" = ceil(hidden_size / 16)
  double dt_min = 0.001, dt_max = 0.1, dt_init_floor = 1e-4;
  int64_t pad_vocab_multiple = 8;
  bool decay_a_log_and_d = false;  // docs/spec/mamba.md §8: the Mamba code exempts A_log and D from weight decay
  int64_t scan_chunk = 2048;
};

struct ModelConfig {
  ModelKind kind = ModelKind::ttt_linear_mamba;
  int64_t vocab_size = 32000;
  int64_t hidden_size = 768;
  int64_t intermediate_size = 2048;
  int64_t num_layers = 12;
  int64_t num_heads = 12;
  int64_t max_seq_len = 2048;
  double rms_norm_eps = 1e-6;  // 1e-5 for Mamba (docs/spec/mamba.md §1), set by from_json when absent
  double initializer_range = 0.02;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = true;
  // TTT (docs/spec/ttt.md §1, §4)
  bool pre_conv = true;  // default: true for the Mamba backbone, false otherwise
  bool share_qk = true;  // default: true for the Mamba backbone
  bool use_gate = true;  // default: true for the Mamba backbone
  int64_t conv_width = 4;
  int64_t mini_batch_size = 16;
  double ttt_base_lr = 1.0;
  double ttt_base_lr_init = -1.0;  // <= 0 with warmup <= 0: no inner-lr warmup
  int64_t ttt_base_lr_warmup = -1;
  // TTT: keep the inner state at the start of every k-th mini-batch (a snapshot, in memory) for backward,
  // which recomputes the mini-batches in between. (Was model.checkpoint_every, still read.)
  int64_t inner_snapshot_every = 4;
  bool recompute_blocks = false;  // recompute each block's activations in backward instead of keeping them
  MambaConfig mamba;

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t padded_vocab() const;  // Mamba pads the vocabulary to a multiple of pad_vocab_multiple
  int64_t mamba_inner() const { return mamba.expand * hidden_size; }
  int64_t mamba_dt_rank() const { return mamba.dt_rank > 0 ? mamba.dt_rank : (hidden_size + 15) / 16; }

  // Parses and validates; `file` names the source in errors.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const;
  // A model section written by an older tttlm with today's key names (checkpoint_every ->
  // inner_snapshot_every), for comparing it with to_json() (a resume's check of the checkpoint's model).
  static nlohmann::json with_current_names(nlohmann::json j);
  void validate(const std::string& file) const;
};

}  // namespace tttlm::layers
