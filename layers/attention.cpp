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
  std::vector<int64_t> pos(u.size(1));
  for (size_t t = 0; t < pos.size(); ++t) pos[t] = static_cast<int64_t>(t);  // absolute positions (ttt-spec §2.4)
  Tensor positions = host_tensor(pos, u.device());
  Tensor q = ops::rope(split_heads(wq.forward(u), heads), positions, rope_theta);
  Tensor k = ops::rope(split_heads(wk.forward(u), heads), positions, rope_theta);
  Tensor v = ops::contiguous(split_heads(wv.forward(u), heads));
  Tensor o = ops::causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(head_dim)));
  return wo.forward(merge_heads(o));
}

}  // namespace tttlm::layers
