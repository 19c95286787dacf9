#include "layers/mamba_mixer.h"

#include <cmath>

#include "autograd/ops/activation.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/scan.h"
#include "autograd/ops/view.h"

namespace tttlm::layers {

namespace {
InitSpec torch_linear(int64_t fan_in) {
  double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return InitSpec::uniform(-b, b);
}
}  // namespace

MambaMixer::MambaMixer(const ModelConfig& c)
    : inner(c.mamba_inner()),
      state(c.mamba.d_state),
      rank(c.mamba_dt_rank()),
      chunk(c.mamba.scan_chunk),
      in_proj(add_module("in_proj", std::make_unique<Linear>(c.hidden_size, 2 * inner, torch_linear(c.hidden_size)))),
      conv1d(add_module("conv1d", std::make_unique<CausalConv>(inner, c.mamba.d_conv, InitSpec::uniform(-0.5, 0.5),
                                                               InitSpec::uniform(-0.5, 0.5)))),
      x_proj(add_module("x_proj", std::make_unique<Linear>(inner, rank + 2 * state, torch_linear(inner)))),
      dt_weight(add_param(
          "dt_proj.weight", {rank, inner},
          InitSpec::uniform(-1.0 / std::sqrt(static_cast<double>(rank)), 1.0 / std::sqrt(static_cast<double>(rank))))),
      dt_bias(add_param("dt_proj.bias", {inner},
                        InitSpec{InitKind::mamba_dt_bias, c.mamba.dt_min, c.mamba.dt_max, c.mamba.dt_init_floor})),
      a_log(add_param("A_log", {inner, state}, InitSpec{InitKind::mamba_a_log}, c.mamba.decay_a_log_and_d)),
      d_skip(add_param("D", {inner}, InitSpec::ones(), c.mamba.decay_a_log_and_d)),
      out_proj(add_module("out_proj", std::make_unique<Linear>(inner, c.hidden_size, [&] {
                            // kaiming-uniform bound 1/sqrt(Di), divided by sqrt(n_layer)
                            // (docs/spec/mamba.md §7)
                            double b = 1.0 / std::sqrt(static_cast<double>(inner)) /
                                       std::sqrt(static_cast<double>(c.num_layers));
                            return InitSpec::uniform(-b, b);
                          }()))) {}

Tensor MambaMixer::forward(const Tensor& h) const { return mix(h, nullptr); }

MambaMixer::State MambaMixer::init_state(int64_t batch) const {
  return {conv1d.init_history(batch), Tensor::zeros({batch, inner, state}, a_log.value.dtype()), true};
}

Tensor MambaMixer::extend(const Tensor& h, State& s) const { return mix(h, &s); }

Tensor MambaMixer::mix(const Tensor& h, State* s) const {
  Tensor xz = in_proj.forward(h);  // (B, T, 2Di)
  auto parts = ops::split(xz, {inner, inner}, -1);
  Tensor xc = ops::silu(s ? conv1d.extend(parts[0], s->conv) : conv1d.forward(parts[0]));
  Tensor dbl = x_proj.forward(xc);  // (B, T, R + 2N)
  auto pieces = ops::split(dbl, {rank, state, state}, -1);
  Tensor delta_raw = ops::linear(pieces[0], dt_weight.value);  // (B, T, Di)
  Tensor a = ops::neg(ops::exp(a_log.value));
  Tensor y;
  if (!s) {
    y = ops::selective_scan(xc, delta_raw, a, pieces[1], pieces[2], d_skip.value, dt_bias.value, parts[1], chunk);
  } else if (s->fresh) {
    ops::ScanResult r = ops::selective_scan_with_state(xc, delta_raw, a, pieces[1], pieces[2], d_skip.value,
                                                       dt_bias.value, parts[1], chunk);
    y = r.out;
    s->ssm = r.last_state;
  } else {
    std::vector<Tensor> ys;
    for (int64_t t = 0; t < h.size(1); ++t) {
      auto at = [t](const Tensor& x) { return ops::select(x, 1, t); };  // (B, Di) or (B, N)
      Tensor yt = ops::selective_scan_step(s->ssm, at(xc), at(delta_raw), at(parts[1]), at(pieces[1]), at(pieces[2]), a,
                                           d_skip.value, dt_bias.value);
      ys.push_back(ops::unsqueeze(yt, 1));
    }
    y = ops::concat(ys, 1);
  }
  if (s) s->fresh = false;
  return out_proj.forward(y);
}

}  // namespace tttlm::layers
