// Batches of windows as CPU tensors, optionally built ahead on one background thread.
// The sampler is advanced only by the producer, in order, so the sequence of batches is the same with
// and without prefetch and whatever the timing. Each batch carries the sampler state *after* it: a
// checkpoint written after training on a batch saves that state, never the producer's (which runs ahead).
// Exceptions thrown while building a batch reach the consumer from next(), at that batch's turn, and
// again on every later call; the destructor stops and joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/sampler.h"
#include "data/window_dataset.h"

namespace tttlm::data {

struct Batch {
  Tensor inputs;                  // (B, T) i32
  Tensor targets;                 // (B, T) i32: inputs shifted by one token
  Tensor loss_mask;               // (B, T) f32: 1 where the target counts, 0 where it is masked (BOS)
  std::vector<uint64_t> indices;  // (B) window indices, in row order
  SamplerState state_after;       // the sampler state once this batch is consumed
};

// Builds the batch of the given windows (B = indices.size()); no sampler involved.
Batch build_batch(const WindowDataset& dataset, const std::vector<uint64_t>& indices);

struct LoaderOptions {
  int prefetch = 2;  // batches built ahead on a background thread (the queue bound); 0 builds in next()
};

class BatchLoader {
 public:
  // Takes the sampler as it is (set its state first to resume). B = sampler.local_batch().
  BatchLoader(std::shared_ptr<const WindowDataset> dataset, Sampler sampler, const LoaderOptions& options = {});
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch of this rank. Blocks while the producer is behind; rethrows its exception.
  Batch next();
  // The sampler state after the last batch next() returned (the initial state before the first call).
  SamplerState state() const { return consumed_state_; }
  const WindowDataset& dataset() const { return *dataset_; }

 private:
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };
  Item produce();  // advances the sampler and builds one batch; never throws
  void run();      // producer thread body

  std::shared_ptr<const WindowDataset> dataset_;
  Sampler sampler_;
  LoaderOptions options_;
  SamplerState consumed_state_;
  std::exception_ptr error_;  // sticky: once a batch failed, next() keeps failing

  std::mutex mutex_;
  std::condition_variable has_item_, has_space_;
  std::deque<Item> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tttlm::data
