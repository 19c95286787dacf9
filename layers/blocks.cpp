#include "layers/blocks.h"

#include "autograd/ops/elementwise.h"

namespace tttlm::layers {

namespace {
// Declared first so that seq_norm and the sequence block follow it in parameter order.
std::unique_ptr<RmsNorm> norm(const ModelConfig& c) { return std::make_unique<RmsNorm>(c.hidden_size, c.rms_norm_eps); }
}  // namespace

Block::Block(const ModelConfig& c)
    : seq_norm(add_module("seq_norm", norm(c))),
      ffn_norm(add_module("ffn_norm", norm(c))),
      ffn(add_module("feed_forward",
                     std::make_unique<SwiGlu>(c.hidden_size, c.intermediate_size, c.initializer_range))) {
  if (c.pre_conv) {
    conv_norm = &add_module("conv_norm", norm(c));
    conv = &add_module("conv", std::make_unique<CausalConv>(c.hidden_size, c.conv_width,
                                                            lecun_normal_conv(c.conv_width), InitSpec::zeros()));
  }
  if (is_ttt(c.kind))
    ttt = &add_module("seq_modeling_block", std::make_unique<TttLayer>(c));
  else
    attention = &add_module("seq_modeling_block", std::make_unique<Attention>(c));
}

Tensor Block::forward(const Tensor& h_in, const ForwardContext& ctx) const {
  Tensor h = h_in;
  if (conv) h = ops::add(h, conv->forward(conv_norm->forward(h)));
  Tensor u = seq_norm.forward(h);
  h = ops::add(h, ttt ? ttt->forward(u, ctx) : attention->forward(u));
  return ops::add(h, ffn.forward(ffn_norm.forward(h)));
}

Block::State Block::init_state(int64_t batch) const {
  State s;
  if (conv) s.conv = conv->init_history(batch);
  if (ttt) s.ttt = ttt->init_state(batch);
  if (attention) s.kv = attention->init_cache(batch);
  return s;
}

Tensor Block::extend(const Tensor& h_in, const ForwardContext& ctx, State& s) const {
  Tensor h = h_in;
  if (conv) h = ops::add(h, conv->extend(conv_norm->forward(h), s.conv));
  Tensor u = seq_norm.forward(h);
  h = ops::add(h, ttt ? ttt->extend(u, ctx, s.ttt) : attention->extend(u, s.kv));
  return ops::add(h, ffn.forward(ffn_norm.forward(h)));
}

MambaBlock::MambaBlock(const ModelConfig& c)
    : norm(add_module("norm", std::make_unique<RmsNorm>(c.hidden_size, c.rms_norm_eps))),
      mixer(add_module("mixer", std::make_unique<MambaMixer>(c))) {}

Tensor MambaBlock::forward(const Tensor& h) const { return ops::add(h, mixer.forward(norm.forward(h))); }

Tensor MambaBlock::extend(const Tensor& h, MambaMixer::State& s) const {
  return ops::add(h, mixer.extend(norm.forward(h), s));
}

}  // namespace tttlm::layers
