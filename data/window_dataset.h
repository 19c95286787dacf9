// Fixed-length training windows over a token stream, exactly as the official LMDataset (docs/spec/ttt.md §8):
// with N tokens and L = seq_len there are S = (N-1)//L samples; sample i is tokens[i*L : i*L+L+1]
// (consecutive windows share one token), input = its first L tokens, target = its last L. The loss mask
// is (target != bos_id) when mask_bos is set (the Llama-2 rule: BOS is never a target), else all ones.
#pragma once

#include <cstdint>
#include <memory>

#include "data/token_source.h"

namespace tttlm::data {

struct WindowOptions {
  int64_t seq_len = 2048;  // L
  bool mask_bos = true;    // loss_mask = (target != bos_id); false: all ones
  int32_t bos_id = 1;
};

class WindowDataset {
 public:
  // Throws InvalidArgument when seq_len < 1 or the stream is too short for one window (N < L + 1).
  WindowDataset(std::shared_ptr<const TokenSource> tokens, const WindowOptions& options);

  uint64_t num_samples() const { return num_samples_; }  // S = (N-1)//L
  int64_t seq_len() const { return options_.seq_len; }
  const WindowOptions& options() const { return options_; }
  const TokenSource& tokens() const { return *tokens_; }

  // Writes sample i: inputs (T) int32, targets (T) int32, loss_mask (T) float 0/1, with T = seq_len.
  // Throws InvalidArgument when i >= num_samples(). Thread-safe.
  void get(uint64_t i, int32_t* inputs, int32_t* targets, float* loss_mask) const;

 private:
  std::shared_ptr<const TokenSource> tokens_;
  WindowOptions options_;
  uint64_t num_samples_ = 0;
};

}  // namespace tttlm::data
