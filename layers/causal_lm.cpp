#include "layers/causal_lm.h"

#include "autograd/recompute.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/matmul_bf16.h"
#include "core/view.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/softmax.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

CausalLM::CausalLM(const ModelConfig& c)
    : config_(c),
      embed_(
          add_param("embed_tokens.weight", {c.padded_vocab(), c.hidden_size}, InitSpec::normal(c.initializer_range))),
      norm_([&]() -> RmsNorm& {
        for (int64_t i = 0; i < c.num_layers; ++i) {
          std::string name = "layers." + std::to_string(i);
          if (c.kind == ModelKind::mamba)
            mamba_blocks_.push_back(&add_module(name, std::make_unique<MambaBlock>(c)));
          else
            blocks_.push_back(&add_module(name, std::make_unique<Block>(c)));
        }
        return add_module("norm", std::make_unique<RmsNorm>(c.hidden_size, c.rms_norm_eps));
      }()) {
  embed_.matmul_weight = true;  // the LM head
  TTT_CHECK(c.tie_word_embeddings, "[CausalLM] only tied embeddings are supported (as in every paper config)");
}

Tensor CausalLM::hidden(const Tensor& ids, const ForwardContext& ctx) const {
  TTT_CHECK(ids.ndim() == 2, "[CausalLM] ids must have shape (B, T), got ", ids.describe());
  // Attention's RoPE positions past max_seq_len were never trained: refuse rather than extrapolate silently.
  // The recurrent kinds (TTT, Mamba) carry state and read sequences of any length.
  TTT_CHECK(config_.kind != ModelKind::transformer || ids.size(1) <= config_.max_seq_len, "[CausalLM] a sequence of ",
            ids.size(1), " tokens is longer than the Transformer's model.max_seq_len = ", config_.max_seq_len,
            " (positions past it were never trained); split the input or use a model trained at that length");
  Tensor h = ops::embedding(embed_.value, ids);
  for (const Block* b : blocks_) {
    if (config_.recompute_blocks)
      h = autograd::recompute(
          // ctx by value: the closure runs again in backward, after the caller's context may be gone.
          [b, ctx](const std::vector<Tensor>& in) { return std::vector<Tensor>{b->forward(in[0], ctx)}; }, {h})[0];
    else
      h = b->forward(h, ctx);
  }
  for (const MambaBlock* b : mamba_blocks_) {
    if (config_.recompute_blocks)
      h = autograd::recompute([b](const std::vector<Tensor>& in) { return std::vector<Tensor>{b->forward(in[0])}; },
                              {h})[0];
    else
      h = b->forward(h);
  }
  return norm_.forward(h);
}

Tensor CausalLM::forward(const Tensor& ids, const ForwardContext& ctx) const { return head(hidden(ids, ctx)); }

Tensor CausalLM::head(const Tensor& hidden) const {
  if (embed_.value_bf16.defined())
    return ops::linear_bf16(hidden, ops::transpose(embed_.value, 0, 1), view::transpose(embed_.value_bf16, 0, 1));
  return ops::matmul(hidden, ops::transpose(embed_.value, 0, 1));
}

Tensor CausalLM::token_losses(const Tensor& ids, const Tensor& targets, const ForwardContext& ctx) const {
  return ops::cross_entropy(forward(ids, ctx), targets);
}

Tensor CausalLM::loss(const Tensor& ids, const Tensor& targets, const Tensor& mask, const ForwardContext& ctx) const {
  Tensor tok = token_losses(ids, targets, ctx);         // (B, T)
  Tensor per_seq = ops::sum(ops::mul(tok, mask), {1});  // (B)
  Tensor counts = ops::sum(mask, {1});                  // (B)
  {
    // max(count, 1e-10) without a differentiable max: counts are constants.
    auto v = counts.to_vector<float>();
    for (auto& x : v) x = std::max(x, 1e-10f);
    counts = Tensor::from_vector(v, counts.shape());
    if (!mask.device().is_cpu()) counts = counts.copy_to(mask.device());
  }
  return ops::mean(ops::div(per_seq, counts));
}

}  // namespace tttlm::layers
