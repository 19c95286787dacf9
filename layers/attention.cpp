#include "layers/attention.h"

#include <cmath>

#include "autograd/ops/attention.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/rope.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

Attention::Attention(const ModelConfig& c)
    : heads(c.num_heads),
      head_dim(c.head_dim()),
      rope_theta(c.rope_theta),
      wq(add_module("wq", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wk(add_module("wk", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wv(add_module("wv", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wo(add_module("wo", std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))) {}

Tensor Attention::forward(const Tensor& u) const {
  const int64_t B = u.size(0), T = u.size(1);
  auto heads_first = [&](const Tensor& x) {
    return ops::permute(ops::reshape(x, {B, T, heads, head_dim}), {0, 2, 1, 3});
  };
  std::vector<int64_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = t;
  Tensor positions = Tensor::from_vector(pos, {T});
  if (!u.device().is_cpu()) positions = positions.copy_to(u.device());
  Tensor q = ops::rope(heads_first(wq.forward(u)), positions, rope_theta);
  Tensor k = ops::rope(heads_first(wk.forward(u)), positions, rope_theta);
  Tensor v = ops::contiguous(heads_first(wv.forward(u)));
  Tensor o = ops::causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(head_dim)));
  return wo.forward(ops::reshape(ops::permute(o, {0, 2, 1, 3}), {B, T, heads * head_dim}));
}

}  // namespace tttlm::layers
