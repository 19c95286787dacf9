// Small building blocks. Weights use the JAX Dense layout (in, out): y = x · W (docs/spec/ttt.md §0).
//   Linear (no bias), RmsNorm, LayerNorm, CausalConv (depthwise, weight (K, C)), SwiGlu (W1, W3 (C, I), W2 (I, C)).
#pragma once

#include "layers/module.h"

namespace tttlm::layers {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, InitSpec init, bool decay = true);
  Tensor forward(const Tensor& x) const;  // (..., in) -> (..., out)
  Parameter& weight;
};

class RmsNorm : public Module {
 public:
  RmsNorm(int64_t width, double eps);
  Tensor forward(const Tensor& x) const;
  Parameter& weight;
  double eps;
};

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t width, double eps);
  Tensor forward(const Tensor& x) const;
  Parameter& weight;
  Parameter& bias;
  double eps;
};

// Depthwise causal conv over time with bias: y_t = bias + sum_k weight[k] ⊙ x_{t-K+1+k} (docs/spec/ttt.md §2.1).
class CausalConv : public Module {
 public:
  CausalConv(int64_t width, int64_t kernel, InitSpec weight_init, InitSpec bias_init);
  Tensor forward(const Tensor& x) const;  // (B, T, C)
  // Decoding: `history` (B, K-1, C) holds the last K-1 inputs (zeros before the first token, as the forward
  // reads zeros before time 0). extend() convolves T new inputs x (B, T, C) after them, with the forward's
  // kernel and so the same arithmetic, and moves the history on. No gradient (call under NoGradGuard).
  Tensor init_history(int64_t batch) const;
  Tensor extend(const Tensor& x, Tensor& history) const;
  Parameter& weight;  // (K, C)
  Parameter& bias;    // (C)
};

// FFN(x) = (silu(x·W1) ⊙ (x·W3))·W2 (docs/spec/ttt.md §2.1).
class SwiGlu : public Module {
 public:
  SwiGlu(int64_t width, int64_t inner, double init_std);
  Tensor forward(const Tensor& x) const;
  Linear& w1;
  Linear& w3;
  Linear& w2;
};

// (B, T, H·D) -> (B, H, T, D), a view, and its inverse (a copy).
Tensor split_heads(const Tensor& x, int64_t heads);
Tensor merge_heads(const Tensor& z);
// Host values as a tensor on `device` (token positions, constant factors).
template <class T>
Tensor host_tensor(const std::vector<T>& values, Device device) {
  Tensor t = Tensor::from_vector(values, {static_cast<int64_t>(values.size())});
  return device.is_cpu() ? t : t.copy_to(device);
}

// flax lecun_normal for the convs (fan_in = K): a normal of std 1/sqrt(K)/0.8796 truncated to ±2 of its
// own std, which has standard deviation 1/sqrt(K) (docs/spec/ttt.md §5: effective std 0.5, |x| <= 1.137 for K = 4).
InitSpec lecun_normal_conv(int64_t kernel);

}  // namespace tttlm::layers
