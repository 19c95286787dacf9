#include "train/evaluate.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"

namespace tttlm::train {

EvalResult evaluate(const layers::CausalLM& model, const EvalData& data, int64_t max_batches, Device device) {
  autograd::NoGradGuard ng;
  EvalResult r;
  int64_t n = std::min(max_batches, data.num_batches());
  TTT_CHECK(n > 0, "[eval] the evaluation split has no complete batch of sequences");
  std::vector<double> pos_sum;
  std::vector<double> pos_count;
  double loss_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    Batch b = data.batch(i);
    Tensor ids = ops::to(b.inputs, device), tg = ops::to(b.targets, device);
    Tensor tok = ops::to(model.token_losses(ids, tg), cpu_device());  // (B, T)
    auto l = tok.to_vector<double>();
    auto m = b.mask.to_vector<double>();
    const int64_t B = tok.size(0), T = tok.size(1);
    if (pos_sum.empty()) {
      pos_sum.assign(T, 0);
      pos_count.assign(T, 0);
    }
    double batch_loss = 0;
    for (int64_t s = 0; s < B; ++s) {
      double sum = 0, cnt = 0;
      for (int64_t t = 0; t < T; ++t) {
        double w = m[s * T + t];
        sum += w * l[s * T + t];
        cnt += w;
        pos_sum[t] += w * l[s * T + t];
        pos_count[t] += w;
      }
      batch_loss += sum / std::max(cnt, 1e-10);
      r.tokens += static_cast<int64_t>(cnt);
    }
    loss_sum += batch_loss / static_cast<double>(B);
  }
  r.loss = loss_sum / static_cast<double>(n);
  r.perplexity = std::exp(r.loss);
  for (size_t t = 0; t < pos_sum.size(); ++t)
    r.per_position.push_back(pos_count[t] > 0 ? pos_sum[t] / pos_count[t] : 0.0);
  return r;
}

}  // namespace tttlm::train
