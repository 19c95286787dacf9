#include "layers/basic.h"

#include <cmath>

#include "autograd/ops/activation.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/conv.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/matmul_bf16.h"
#include "autograd/ops/norm.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

Linear::Linear(int64_t in, int64_t out, InitSpec init, bool decay)
    : weight(add_param("weight", {in, out}, init, decay)) {
  weight.matmul_weight = true;
}
Tensor Linear::forward(const Tensor& x) const {
  return weight.value_bf16.defined() ? ops::linear_bf16(x, weight.value, weight.value_bf16)
                                     : ops::linear(x, weight.value);
}

RmsNorm::RmsNorm(int64_t width, double eps_) : weight(add_param("weight", {width}, InitSpec::ones())), eps(eps_) {}
Tensor RmsNorm::forward(const Tensor& x) const { return ops::rms_norm(x, weight.value, eps); }

LayerNorm::LayerNorm(int64_t width, double eps_)
    : weight(add_param("weight", {width}, InitSpec::ones())),
      bias(add_param("bias", {width}, InitSpec::zeros())),
      eps(eps_) {}
Tensor LayerNorm::forward(const Tensor& x) const { return ops::layer_norm(x, weight.value, bias.value, eps); }

CausalConv::CausalConv(int64_t width, int64_t kernel, InitSpec weight_init, InitSpec bias_init)
    : weight(add_param("weight", {kernel, width}, weight_init)), bias(add_param("bias", {width}, bias_init)) {}
Tensor CausalConv::forward(const Tensor& x) const { return ops::causal_conv1d(x, weight.value, bias.value); }

Tensor CausalConv::init_history(int64_t batch) const {
  return Tensor::zeros({batch, weight.value.size(0) - 1, weight.value.size(1)}, weight.value.dtype());
}

Tensor CausalConv::extend(const Tensor& x, Tensor& history) const {
  const int64_t keep = weight.value.size(0) - 1, T = x.size(1);
  TTT_CHECK(x.ndim() == 3 && history.ndim() == 3 && history.size(0) == x.size(0) && history.size(1) == keep &&
                history.size(2) == x.size(2),
            "[decode] conv input x ", x.describe(), " does not fit the history ", history.describe(),
            " (expected (B, K-1, C) with K = ", keep + 1, ")");
  if (keep == 0) return forward(x);
  Tensor window = ops::concat({history, x}, 1);  // (B, K-1+T, C)
  history = ops::contiguous(ops::narrow(window, 1, T, keep));
  return ops::contiguous(ops::narrow(forward(window), 1, keep, T));
}

SwiGlu::SwiGlu(int64_t width, int64_t inner, double std)
    : w1(add_module("w1", std::make_unique<Linear>(width, inner, InitSpec::normal(std)))),
      w3(add_module("w3", std::make_unique<Linear>(width, inner, InitSpec::normal(std)))),
      w2(add_module("w2", std::make_unique<Linear>(inner, width, InitSpec::normal(std)))) {}

Tensor SwiGlu::forward(const Tensor& x) const { return w2.forward(ops::mul(ops::silu(w1.forward(x)), w3.forward(x))); }

Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  return ops::permute(ops::reshape(x, {B, T, heads, C / heads}), {0, 2, 1, 3});
}

Tensor merge_heads(const Tensor& z) {
  const int64_t B = z.size(0), H = z.size(1), T = z.size(2), D = z.size(3);
  return ops::reshape(ops::permute(z, {0, 2, 1, 3}), {B, T, H * D});
}

InitSpec lecun_normal_conv(int64_t kernel) {
  // 0.87962566103423978 = std of a standard normal truncated to [-2, 2] (flax's variance_scaling correction).
  InitSpec s = InitSpec::trunc_normal(1.0 / std::sqrt(static_cast<double>(kernel)) / 0.87962566103423978);
  return s;
}

}  // namespace tttlm::layers
