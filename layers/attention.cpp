#include "layers/attention.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "autograd/ops/attention.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/mask.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/rope.h"
#include "autograd/ops/softmax.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

namespace {

Tensor positions_from(int64_t start, int64_t count, Device device) {
  std::vector<int64_t> pos(count);
  for (int64_t t = 0; t < count; ++t) pos[t] = start + t;  // absolute positions (docs/spec/ttt.md §2.4)
  return host_tensor(pos, device);
}

// cache[:, :, start : start+T] = x for x (B, H, T, D) and a contiguous CPU cache (B, H, capacity, D).
void write_positions(const Tensor& cache, const Tensor& x, int64_t start) {
  const Tensor c = ops::contiguous(x);
  const int64_t BH = c.size(0) * c.size(1), T = c.size(2), D = c.size(3), cap = cache.size(2);
  const size_t elem = dtype_size(c.dtype());
  auto* dst = static_cast<char*>(cache.data_ptr());
  const auto* src = static_cast<const char*>(c.data_ptr());
  for (int64_t r = 0; r < BH; ++r)
    std::memcpy(dst + (r * cap + start) * D * elem, src + r * T * D * elem, static_cast<size_t>(T * D) * elem);
}

}  // namespace

Attention::Attention(const ModelConfig& c)
    : heads(c.num_heads),
      head_dim(c.head_dim()),
      max_seq_len(c.max_seq_len),
      rope_theta(c.rope_theta),
      wq(add_module("wq",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wk(add_module("wk",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wv(add_module("wv",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))),
      wo(add_module("wo",
                    std::make_unique<Linear>(c.hidden_size, c.hidden_size, InitSpec::normal(c.initializer_range)))) {}

Tensor Attention::forward(const Tensor& u) const {
  Tensor positions = positions_from(0, u.size(1), u.device());
  Tensor q = ops::rope(split_heads(wq.forward(u), heads), positions, rope_theta);
  Tensor k = ops::rope(split_heads(wk.forward(u), heads), positions, rope_theta);
  Tensor v = ops::contiguous(split_heads(wv.forward(u), heads));
  Tensor o = ops::causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(head_dim)));
  return wo.forward(merge_heads(o));
}

Attention::Cache Attention::init_cache(int64_t batch) const {
  const Dtype dtype = wq.weight.value.dtype();
  return {Tensor::zeros({batch, heads, max_seq_len, head_dim}, dtype),
          Tensor::zeros({batch, heads, max_seq_len, head_dim}, dtype), 0};
}

Tensor Attention::extend(const Tensor& u, Cache& cache) const {
  const int64_t T = u.size(1), start = cache.length, end = start + T;
  TTT_CHECK(u.ndim() == 3 && u.size(0) == cache.k.size(0), "[decode] attention input ", u.describe(),
            " does not fit the KV cache ", cache.k.describe());
  TTT_CHECK(end <= max_seq_len, "[decode] the KV cache holds max_seq_len = ", max_seq_len,
            " positions (RoPE at absolute positions); ", start, " are cached and ", T, " more were given");
  Tensor positions = positions_from(start, T, u.device());
  Tensor q = ops::rope(split_heads(wq.forward(u), heads), positions, rope_theta);  // (B, H, T, D)
  Tensor k = ops::rope(split_heads(wk.forward(u), heads), positions, rope_theta);
  Tensor v = ops::contiguous(split_heads(wv.forward(u), heads));
  write_positions(cache.k, k, start);
  write_positions(cache.v, v, start);
  cache.length = end;
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  Tensor o;
  if (start == 0) {
    o = ops::causal_attention(q, k, v, scale);  // a prefill: the forward's own kernel
  } else {
    // Queries at start..end-1 over keys 0..end-1: query i sees key j when j <= start + i.
    Tensor keys = ops::narrow(cache.k, 2, 0, end), values = ops::narrow(cache.v, 2, 0, end);
    Tensor s = ops::scale(ops::matmul(q, ops::transpose(keys, 2, 3)), scale);  // (B, H, T, end)
    if (T > 1) s = ops::masked_fill_upper(s, -std::numeric_limits<double>::infinity(), start);
    o = ops::matmul(ops::softmax(s), values);
  }
  return wo.forward(merge_heads(o));
}

}  // namespace tttlm::layers
