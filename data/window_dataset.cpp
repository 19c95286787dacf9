// LMDataset windows: two reads per sample, no staging buffer (targets are the inputs shifted by one).
#include "data/window_dataset.h"

#include <cstring>

#include "core/error.h"

namespace tttlm::data {

WindowDataset::WindowDataset(std::shared_ptr<const TokenSource> tokens, const WindowOptions& options)
    : tokens_(std::move(tokens)), options_(options) {
  TTT_CHECK(tokens_ != nullptr, "[window] expected a token source; got null");
  TTT_CHECK(options_.seq_len >= 1, "[window] seq_len must be >= 1; got ", options_.seq_len);
  uint64_t n = tokens_->size();
  uint64_t len = static_cast<uint64_t>(options_.seq_len);
  TTT_CHECK(n >= len + 1, "[window] ", tokens_->describe(), " is too short for one window of seq_len + 1 = ", len + 1,
            " tokens");
  num_samples_ = (n - 1) / len;
}

void WindowDataset::get(uint64_t i, int32_t* inputs, int32_t* targets, float* loss_mask) const {
  TTT_CHECK(i < num_samples_, "[window] sample ", i, " is out of range: the dataset has ", num_samples_,
            " samples of seq_len ", options_.seq_len, " over ", tokens_->describe());
  const uint64_t len = static_cast<uint64_t>(options_.seq_len);
  tokens_->read(i * len, len, inputs);
  std::memcpy(targets, inputs + 1, (len - 1) * sizeof(int32_t));
  tokens_->read(i * len + len, 1, targets + len - 1);
  if (options_.mask_bos) {
    for (uint64_t t = 0; t < len; ++t) loss_mask[t] = targets[t] != options_.bos_id ? 1.0f : 0.0f;
  } else {
    for (uint64_t t = 0; t < len; ++t) loss_mask[t] = 1.0f;
  }
}

}  // namespace tttlm::data
