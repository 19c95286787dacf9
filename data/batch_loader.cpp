// Batch assembly and the bounded producer/consumer queue of the prefetching loader.
#include "data/batch_loader.h"

#include "core/error.h"

namespace tttlm::data {

Batch build_batch(const WindowDataset& dataset, const std::vector<uint64_t>& indices) {
  const int64_t rows = static_cast<int64_t>(indices.size());
  const int64_t len = dataset.seq_len();
  TTT_CHECK(rows >= 1, "[loader] a batch needs at least one window index; got none");
  Batch b;
  b.inputs = Tensor::empty({rows, len}, Dtype::i32);
  b.targets = Tensor::empty({rows, len}, Dtype::i32);
  b.loss_mask = Tensor::empty({rows, len}, Dtype::f32);
  int32_t* in = b.inputs.data<int32_t>();
  int32_t* tg = b.targets.data<int32_t>();
  float* mask = b.loss_mask.data<float>();
  for (int64_t r = 0; r < rows; ++r) dataset.get(indices[r], in + r * len, tg + r * len, mask + r * len);
  b.indices = indices;
  return b;
}

BatchLoader::BatchLoader(std::shared_ptr<const WindowDataset> dataset, Sampler sampler, const LoaderOptions& options)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(options) {
  TTT_CHECK(dataset_ != nullptr, "[loader] expected a dataset; got null");
  TTT_CHECK(sampler_.options().num_samples == dataset_->num_samples(), "[loader] the sampler covers ",
            sampler_.options().num_samples, " samples but the dataset has ", dataset_->num_samples());
  TTT_CHECK(options_.prefetch >= 0, "[loader] prefetch must be >= 0; got ", options_.prefetch);
  consumed_state_ = sampler_.state();
  if (options_.prefetch > 0) thread_ = std::thread([this] { run(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  has_space_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BatchLoader::Item BatchLoader::produce() {
  Item item;
  try {
    std::vector<uint64_t> indices = sampler_.next();
    item.batch = build_batch(*dataset_, indices);
    item.batch.state_after = sampler_.state();
  } catch (...) {
    item.error = std::current_exception();
  }
  return item;
}

void BatchLoader::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_space_.wait(lock, [&] { return stop_ || queue_.size() < static_cast<size_t>(options_.prefetch); });
      if (stop_) return;
    }
    Item item = produce();  // outside the lock: the consumer keeps popping meanwhile
    bool failed = item.error != nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(item));
    }
    has_item_.notify_one();
    if (failed) return;  // the sampler state is unknown after a failure; nothing more is produced
  }
}

Batch BatchLoader::next() {
  if (error_) std::rethrow_exception(error_);
  Item item;
  if (options_.prefetch == 0) {
    item = produce();
  } else {
    std::unique_lock<std::mutex> lock(mutex_);
    has_item_.wait(lock, [&] { return !queue_.empty(); });
    item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    has_space_.notify_one();
  }
  if (item.error) {
    error_ = item.error;
    std::rethrow_exception(error_);
  }
  consumed_state_ = item.batch.state_after;
  return std::move(item.batch);
}

}  // namespace tttlm::data
