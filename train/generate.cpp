#include "train/generate.h"

#include <algorithm>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "core/philox.h"

namespace tttlm::train {

std::vector<int32_t> generate_tokens(const layers::CausalLM& model, std::vector<int32_t> tokens, int64_t max_new_tokens,
                                     double temperature, uint64_t seed, int32_t stop_id) {
  autograd::NoGradGuard ng;
  TTT_CHECK(!tokens.empty(), "[generate] the prompt encodes to no tokens");
  const Device device = model.parameters().front()->value.device();
  const int64_t limit = model.config().max_seq_len;
  std::vector<int32_t> out;
  for (int64_t n = 0; n < max_new_tokens; ++n) {
    std::vector<int32_t> window(tokens.end() - std::min<int64_t>(static_cast<int64_t>(tokens.size()), limit), tokens.end());
    const int64_t T = static_cast<int64_t>(window.size());
    Tensor ids = ops::to(Tensor::from_vector(window, {1, T}), device);
    Tensor logits = ops::to(ops::contiguous(ops::select(ops::select(model.forward(ids), 0, 0), 0, T - 1)), cpu_device());
    std::vector<double> l = logits.to_vector<double>();
    l.resize(static_cast<size_t>(model.config().vocab_size));  // never sample Mamba's padding rows
    int32_t next = 0;
    if (temperature <= 0) {
      next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    } else {
      double mx = *std::max_element(l.begin(), l.end()), sum = 0;
      for (double& v : l) sum += (v = std::exp((v - mx) / temperature));
      double u = philox::uniform(seed, 17, static_cast<uint64_t>(n)) * sum, acc = 0;
      for (size_t i = 0; i < l.size(); ++i) {
        acc += l[i];
        if (acc >= u) {
          next = static_cast<int32_t>(i);
          break;
        }
      }
    }
    tokens.push_back(next);
    out.push_back(next);
    if (next == stop_id) break;
  }
  return out;
}

}  // namespace tttlm::train
