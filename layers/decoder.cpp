#include "layers/decoder.h"

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/embedding.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

namespace {

// The model itself when its parameters are on the CPU, else a CPU copy kept in `copy`.
const CausalLM& on_cpu(const CausalLM& model, std::unique_ptr<CausalLM>& copy) {
  TTT_CHECK(model.is_materialized(), "[decode] the model has no parameter values; materialize or load it first");
  std::vector<const Parameter*> src = model.parameters();
  if (src.front()->value.device().is_cpu()) return model;
  copy = std::make_unique<CausalLM>(model.config());
  std::vector<Parameter*> dst = copy->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value.detach().copy_to(cpu_device());
  return *copy;
}

}  // namespace

Decoder::Decoder(const CausalLM& model, int64_t batch, const ForwardContext& ctx)
    : model_(&on_cpu(model, cpu_copy_)), batch_(batch), ctx_(ctx) {
  TTT_CHECK(batch >= 1, "[decode] batch must be >= 1, got ", batch);
  reset();
}

void Decoder::reset() {
  autograd::NoGradGuard ng;
  position_ = 0;
  blocks_.clear();
  mamba_blocks_.clear();
  for (const Block* b : model_->blocks()) blocks_.push_back(b->init_state(batch_));
  for (const MambaBlock* b : model_->mamba_blocks()) mamba_blocks_.push_back(b->init_state(batch_));
}

int64_t Decoder::max_positions() const {
  return model_->config().kind == ModelKind::transformer ? model_->config().max_seq_len : -1;
}

Tensor Decoder::advance(const Tensor& ids_in) {
  TTT_CHECK(ids_in.ndim() == 2 && ids_in.size(0) == batch_ && ids_in.size(1) >= 1,
            "[decode] ids must have shape (B, T) with B = ", batch_, " and T >= 1, got ", ids_in.describe());
  const int64_t T = ids_in.size(1), limit = max_positions();
  TTT_CHECK(limit < 0 || position_ + T <= limit, "[decode] a Transformer decodes at most max_seq_len = ", limit,
            " positions (RoPE at absolute positions); ", position_, " are consumed and ", T,
            " more were given; reset() and prefill a shorter window");
  Tensor ids = ops::to(ids_in, cpu_device());
  Tensor h = ops::embedding(model_->embedding().value, ids);  // (B, T, C)
  for (size_t i = 0; i < blocks_.size(); ++i) h = model_->blocks()[i]->extend(h, ctx_, blocks_[i]);
  for (size_t i = 0; i < mamba_blocks_.size(); ++i) h = model_->mamba_blocks()[i]->extend(h, mamba_blocks_[i]);
  position_ += T;
  return model_->final_norm().forward(h);
}

Tensor Decoder::extend(const Tensor& ids) {
  autograd::NoGradGuard ng;
  return model_->head(advance(ids));
}

Tensor Decoder::prefill(const Tensor& ids) {
  autograd::NoGradGuard ng;
  Tensor h = advance(ids);
  return model_->head(ops::select(h, 1, h.size(1) - 1));  // (B, V')
}

Tensor Decoder::step(const Tensor& ids) {
  TTT_CHECK(
      (ids.ndim() == 1 && ids.size(0) == batch_) || (ids.ndim() == 2 && ids.size(0) == batch_ && ids.size(1) == 1),
      "[decode] step takes one token per row: ids of shape (B) or (B, 1) with B = ", batch_, ", got ", ids.describe());
  return prefill(ids.ndim() == 1 ? ops::unsqueeze(ids, 1) : ids);
}

}  // namespace tttlm::layers
