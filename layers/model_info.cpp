#include "layers/model_info.h"

#include "layers/causal_lm.h"

namespace tttlm::layers {

nlohmann::json ModelInfo::to_json() const {
  return {{"parameters", parameters},
          {"embedding_parameters", embedding_parameters},
          {"flops_per_token", flops_per_token},
          {"forward_flops_per_token", forward_flops_per_token},
          {"inner_loop_flops_per_token", inner_loop_flops_per_token},
          {"memory_bytes",
           {{"weights", weights_bytes},
            {"gradients", gradient_bytes},
            {"optimizer", optimizer_bytes},
            {"activations_estimate", activation_bytes},
            {"total_estimate", total_bytes()}}}};
}

ModelInfo model_info(const ModelConfig& c, int64_t batch, int64_t seq_len) {
  ModelInfo info;
  CausalLM model(c);  // declares parameters only
  double matmul_weights = 0;
  for (const Parameter* p : model.parameters()) {
    int64_t n = shape_numel(p->shape);
    info.parameters += n;
    const std::string& name = p->name;
    bool is_matrix = p->shape.size() == 2 && p->shape[0] > 1 && p->shape[1] > 1 &&
                     name.find("norm") == std::string::npos && name.find("conv") == std::string::npos &&
                     name.find("learnable_ttt_lr") == std::string::npos && name.find("A_log") == std::string::npos &&
                     name.find("b1") == std::string::npos && name.find("b2") == std::string::npos;
    if (name == "embed_tokens.weight") info.embedding_parameters = n;
    if (is_matrix) matmul_weights += static_cast<double>(n);  // includes the tied head (the embedding matrix)
  }
  const double T = static_cast<double>(seq_len), C = static_cast<double>(c.hidden_size);
  const double L = static_cast<double>(c.num_layers);
  double fwd = 2.0 * matmul_weights;
  if (c.kind == ModelKind::transformer) fwd += 2.0 * T * C * L;  // QKᵀ and PV, causal half of 4·T·C
  if (is_ttt(c.kind)) {
    const double d = static_cast<double>(c.head_dim()), m = static_cast<double>(c.mini_batch_size);
    const double H = static_cast<double>(c.num_heads);
    double per_head = is_ttt_mlp(c.kind) ? 48 * d * d + 30 * m * d : 6 * d * d + 6 * m * d;
    info.inner_loop_flops_per_token = per_head * H * L;
    fwd += info.inner_loop_flops_per_token;
    fwd += 2.0 * C * L;  // the lr gate (H, C) is a skinny matmul counted here
  }
  if (c.kind == ModelKind::mamba) fwd += 7.0 * static_cast<double>(c.mamba_inner()) * c.mamba.d_state * L;
  info.forward_flops_per_token = fwd;
  info.flops_per_token = 3.0 * fwd;

  const double P = static_cast<double>(info.parameters);
  info.weights_bytes = 4 * P;
  info.gradient_bytes = 4 * P;
  info.optimizer_bytes = 8 * P;
  // Activations saved for backward, per token and layer, in f32 (counted from the ops each block records).
  double per_token_layer;
  if (c.kind == ModelKind::mamba) {
    const double Di = static_cast<double>(c.mamba_inner());
    per_token_layer = 2 * C + 8 * Di + 2 * c.mamba.d_state + c.mamba_dt_rank();
  } else {
    per_token_layer = 10 * C + 3 * static_cast<double>(c.intermediate_size);
    if (c.pre_conv) per_token_layer += 3 * C;
    if (is_ttt(c.kind)) {
      per_token_layer += 8 * C;
      const double d = static_cast<double>(c.head_dim());
      double state = is_ttt_mlp(c.kind) ? 8 * d * d + 5 * d : d * d + d;  // per head
      per_token_layer += c.num_heads * state / (c.mini_batch_size * c.inner_snapshot_every);
    } else {
      per_token_layer += 1.0;  // attention logsumexp per head is tiny; q, k, v, o counted above
    }
  }
  double layers_bytes = 4.0 * batch * T * per_token_layer * L;
  if (c.recompute_blocks) layers_bytes = 4.0 * batch * T * (C * L + per_token_layer);
  const double logits = 4.0 * batch * T * static_cast<double>(c.padded_vocab()) * 2;  // logits + their gradient
  info.activation_bytes = layers_bytes + logits;
  return info;
}

}  // namespace tttlm::layers
