#include "layers/ttt_layer.h"

#include "autograd/ops/activation.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/rope.h"
#include "autograd/ops/ttt.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

TttLayer::TttLayer(const ModelConfig& c)
    : mlp(is_ttt_mlp(c.kind)),
      share_qk(c.share_qk),
      use_gate(c.use_gate),
      heads(c.num_heads),
      head_dim(c.head_dim()),
      mini_batch(c.mini_batch_size),
      inner_snapshot_every(c.inner_snapshot_every),
      base_lr(c.ttt_base_lr),
      rope_theta(c.rope_theta),
      wq(add_module("wq",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wv(add_module("wv",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wo(add_module("wo",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      token_idx(add_param("learnable_token_idx", {c.mini_batch_size}, InitSpec::zeros())),
      lr_weight(
          add_param("learnable_ttt_lr_weight", {c.num_heads, c.hidden_size}, InitSpec::normal(c.initializer_range))),
      lr_bias(add_param("learnable_ttt_lr_bias", {c.num_heads}, InitSpec::zeros())),
      ttt_norm_weight(add_param("ttt_norm_weight", {c.num_heads, c.head_dim()}, InitSpec::ones())),
      ttt_norm_bias(add_param("ttt_norm_bias", {c.num_heads, c.head_dim()}, InitSpec::zeros())),
      post_norm(add_module("post_norm", std::make_unique<LayerNorm>(c.hidden_size, 1e-6))),
      w1(add_param("W1", {c.num_heads, c.head_dim(), (mlp ? 4 : 1) * c.head_dim()},
                   InitSpec::normal(c.initializer_range))),
      b1(add_param("b1", {c.num_heads, (mlp ? 4 : 1) * c.head_dim()}, InitSpec::zeros())) {
  const double std = c.initializer_range;
  if (!share_qk) wk = &add_module("wk", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(std)));
  if (use_gate) wg = &add_module("wg", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(std)));
  if (share_qk) {
    conv_q = &add_module("conv_q", std::make_unique<CausalConv>(c.hidden_size, c.conv_width,
                                                                lecun_normal_conv(c.conv_width), InitSpec::zeros()));
    conv_k = &add_module("conv_k", std::make_unique<CausalConv>(c.hidden_size, c.conv_width,
                                                                lecun_normal_conv(c.conv_width), InitSpec::zeros()));
  }
  if (mlp) {
    w2 = &add_param("W2", {c.num_heads, 4 * c.head_dim(), c.head_dim()}, InitSpec::normal(std));
    b2 = &add_param("b2", {c.num_heads, c.head_dim()}, InitSpec::zeros());
  }
}

TttLayer::InnerInputs TttLayer::inner_inputs(const Tensor& u, const ForwardContext& ctx,
                                             int64_t position_offset) const {
  return inner_inputs(u, ctx, position_offset, nullptr);
}

TttLayer::InnerInputs TttLayer::inner_inputs(const Tensor& u, const ForwardContext& ctx, int64_t position_offset,
                                             State* state) const {
  const int64_t T = u.size(1);
  Tensor q, k;
  if (share_qk) {
    Tensor s = wq.forward(u);
    q = state ? conv_q->extend(s, state->conv_q) : conv_q->forward(s);
    k = state ? conv_k->extend(s, state->conv_k) : conv_k->forward(s);
  } else {
    q = wq.forward(u);
    k = wk->forward(u);
  }
  Tensor v = wv.forward(u);
  std::vector<int64_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = (position_offset + t) % mini_batch;  // docs/spec/ttt.md §3.3
  Tensor positions = host_tensor(pos, u.device());
  InnerInputs in;
  in.q = ops::rope(split_heads(q, heads), positions, rope_theta);
  in.k = ops::rope(split_heads(k, heads), positions, rope_theta);
  in.v = ops::contiguous(split_heads(v, heads));
  // gate_{t,h} = sigmoid(u_t · a_h + c_h); ttt_lr = lr_mult · base_lr · gate / D (docs/spec/ttt.md §3.5).
  Tensor gate =
      ops::sigmoid(ops::add(ops::linear(u, ops::transpose(lr_weight.value, 0, 1)), lr_bias.value));  // (B, T, H)
  in.ttt_lr = ops::contiguous(
      ops::permute(ops::scale(gate, ctx.ttt_lr_mult * base_lr / static_cast<double>(head_dim)), {0, 2, 1}));
  // tau_i = max(0, 1/(i+1) + l_i)
  std::vector<float> inv(mini_batch);
  for (int64_t i = 0; i < mini_batch; ++i) inv[i] = 1.0f / static_cast<float>(i + 1);
  Tensor inv_t = ops::cast(host_tensor(inv, u.device()), token_idx.value.dtype());  // f64 models too
  in.token_eta = ops::relu(ops::add(token_idx.value, inv_t));
  return in;
}

Tensor TttLayer::output(const Tensor& u, const Tensor& z) const {
  Tensor o = post_norm.forward(merge_heads(z));
  if (use_gate) o = ops::mul(ops::gelu(wg->forward(u), ops::GeluApprox::tanh), o);
  return wo.forward(o);
}

Tensor TttLayer::forward(const Tensor& u, const ForwardContext& ctx) const {
  InnerInputs in = inner_inputs(u, ctx);
  ops::TttOptions opt;
  opt.mini_batch = mini_batch;
  opt.snapshot_every = inner_snapshot_every;
  Tensor z = ops::ttt({in.q, in.k, in.v, in.token_eta, in.ttt_lr, ttt_norm_weight.value, ttt_norm_bias.value},
                      inner_model(), opt);
  return output(u, z);
}

ops::TttInner TttLayer::inner_model() const {
  if (mlp) return {ops::InnerModel::mlp, {w1.value, b1.value, w2->value, b2->value}};
  return {ops::InnerModel::linear, {w1.value, b1.value}};
}

TttLayer::State TttLayer::init_state(int64_t batch) const {
  State s;
  if (share_qk) {
    s.conv_q = conv_q->init_history(batch);
    s.conv_k = conv_k->init_history(batch);
  }
  s.inner = ops::ttt_decode_init(inner_model(), batch);
  return s;
}

Tensor TttLayer::extend(const Tensor& u, const ForwardContext& ctx, State& s) const {
  InnerInputs in = inner_inputs(u, ctx, s.position(), &s);
  ops::TttOptions opt;
  opt.mini_batch = mini_batch;
  std::vector<Tensor> z;
  for (int64_t t = 0; t < u.size(1); ++t) {
    auto at = [t](const Tensor& x) { return ops::select(x, 2, t); };  // (B, H, D) and (B, H)
    Tensor zt = ops::ttt_decode_step(
        s.inner,
        {at(in.q), at(in.k), at(in.v), in.token_eta, at(in.ttt_lr), ttt_norm_weight.value, ttt_norm_bias.value}, opt);
    z.push_back(ops::unsqueeze(zt, 2));
  }
  return output(u, ops::concat(z, 2));  // z (B, H, T, D)
}

}  // namespace tttlm::layers
