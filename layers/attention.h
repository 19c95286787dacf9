// The Transformer baseline's self-attention (docs/spec/ttt.md §2.4): q, k, v = u·Wq, u·Wk, u·Wv (no bias), RoPE
// with absolute positions, causal softmax attention computed in tiles (ops::causal_attention), ·Wo.
// Decoding keeps a KV cache of (rotated) keys and values for at most max_seq_len positions.
#pragma once

#include "layers/basic.h"
#include "layers/model_config.h"

namespace tttlm::layers {

class Attention : public Module {
 public:
  explicit Attention(const ModelConfig& c);
  Tensor forward(const Tensor& u) const;  // (B, T, C) -> (B, T, C)

  // Keys (after RoPE) and values of the positions decoded so far, in preallocated buffers.
  struct Cache {
    Tensor k, v;         // (B, H, capacity, D), capacity = max_seq_len
    int64_t length = 0;  // positions filled
  };
  Cache init_cache(int64_t batch) const;
  // T new tokens u (B, T, C) at absolute positions cache.length .. cache.length+T-1 -> (B, T, C): their keys
  // and values are appended and their queries attend to the whole cache (never recomputing the prefix).
  // Throws "[decode] ..." when the cache would grow past max_seq_len. No gradient (call under NoGradGuard).
  Tensor extend(const Tensor& u, Cache& cache) const;

  int64_t heads, head_dim, max_seq_len;
  double rope_theta;
  Linear& wq;
  Linear& wk;
  Linear& wv;
  Linear& wo;
};

}  // namespace tttlm::layers
