#include "train/data_pipeline.h"

#include "data/batch_loader.h"
#include "data/sampler.h"
#include "data/token_check.h"
#include "data/token_source.h"
#include "data/window_dataset.h"

#include <cstring>
#include <filesystem>

namespace tttlm::train {

namespace {

std::shared_ptr<const data::WindowDataset> open_windows(const RunConfig& c, const std::string& split) {
  TTT_CHECK(!c.data.path.empty(), "[data] ", c.source,
            ": data.path is not set (a folder of train.npy/validation.npy or .bin shards)");
  auto tokens = data::open_split(data::token_format_from_name(c.data.format), c.data.path, split);
  data::TokenCheckOptions check;
  if (!c.train.run_dir.empty())  // where the id-check cache goes when the data folder is read-only
    check.fallback_dir = (std::filesystem::path(c.train.run_dir) / "tokcheck").string();
  data::check_token_ids(*tokens, c.model.vocab_size, check);
  data::WindowOptions w;
  w.seq_len = c.data.seq_len;
  w.mask_bos = c.data.mask_bos;
  w.bos_id = static_cast<int32_t>(c.data.bos_id);
  return std::make_shared<const data::WindowDataset>(tokens, w);
}

Batch convert(data::Batch&& b) { return {std::move(b.inputs), std::move(b.targets), std::move(b.loss_mask)}; }

}  // namespace

struct TrainData::Impl {
  std::shared_ptr<const data::WindowDataset> windows;
  data::SamplerOptions sampler_options;
  int prefetch = 2;
  std::unique_ptr<data::BatchLoader> loader;
  // The global batch of a step is split into micro-batches on this rank.
  int64_t micro = 1, local = 1;
  data::Batch current;
  int64_t used = 0;               // rows of `current` consumed
  data::SamplerState step_start;  // state at the start of the current optimizer step

  void restart(const data::SamplerState& s) {
    data::Sampler sampler(sampler_options);
    sampler.set_state(s);
    loader.reset();
    loader = std::make_unique<data::BatchLoader>(windows, std::move(sampler), data::LoaderOptions{prefetch});
    used = local;
    step_start = s;
  }
};

TrainData::TrainData(const RunConfig& c, int rank, int world_size) : impl_(std::make_unique<Impl>()) {
  impl_->windows = open_windows(c, c.data.train_split);
  data::SamplerOptions& o = impl_->sampler_options;
  o.num_samples = impl_->windows->num_samples();
  o.global_batch = c.train.global_batch_size;
  o.world_size = world_size;
  o.rank = rank;
  o.order = data::SampleOrder::shuffled;
  o.seed = static_cast<uint64_t>(c.train.seed);
  impl_->prefetch = static_cast<int>(c.data.prefetch);
  impl_->micro = c.train.micro_batch_size;
  impl_->local = c.train.global_batch_size / world_size;
  impl_->restart({});
}

TrainData::~TrainData() = default;

Batch TrainData::next_micro_batch() {
  Impl& s = *impl_;
  if (s.used >= s.local) {
    s.step_start = s.loader->state();
    s.current = s.loader->next();
    s.used = 0;
  }
  auto rows = [&](const Tensor& t) {
    // Rows [used, used + micro) of a (local, T) tensor, copied into their own contiguous tensor.
    const int64_t T = t.size(1);
    Tensor out = Tensor::empty({s.micro, T}, t.dtype());
    std::memcpy(out.data_ptr(), static_cast<const char*>(t.data_ptr()) + s.used * T * dtype_size(t.dtype()),
                static_cast<size_t>(s.micro * T) * dtype_size(t.dtype()));
    return out;
  };
  Batch b{rows(s.current.inputs), rows(s.current.targets), rows(s.current.loss_mask)};
  s.used += s.micro;
  return b;
}

nlohmann::json TrainData::state() const {
  // Between steps every row of the current global batch is consumed, so the loader's consumed state is the
  // start of the next step.
  data::Sampler sampler(impl_->sampler_options);
  sampler.set_state(impl_->used >= impl_->local ? impl_->loader->state() : impl_->step_start);
  return sampler.state_json();
}

void TrainData::load_state(const nlohmann::json& j) {
  data::Sampler sampler(impl_->sampler_options);
  sampler.load_state_json(j);
  impl_->restart(sampler.state());
}

int64_t TrainData::num_samples() const { return static_cast<int64_t>(impl_->windows->num_samples()); }

struct EvalData::Impl {
  std::shared_ptr<const data::WindowDataset> windows;
  int64_t batch = 1;
};

EvalData::EvalData(const RunConfig& c, const std::string& split, int64_t batch_size) : impl_(std::make_unique<Impl>()) {
  TTT_CHECK(batch_size >= 1, "[eval] ", c.source, ": the evaluation batch size must be >= 1; found ", batch_size);
  impl_->windows = open_windows(c, split);
  impl_->batch = batch_size;
}

EvalData::~EvalData() = default;

int64_t EvalData::num_batches() const { return static_cast<int64_t>(impl_->windows->num_samples()) / impl_->batch; }

Batch EvalData::batch(int64_t i) const {
  std::vector<uint64_t> idx(impl_->batch);
  for (int64_t k = 0; k < impl_->batch; ++k) idx[k] = static_cast<uint64_t>(i * impl_->batch + k);
  return convert(data::build_batch(*impl_->windows, idx));
}

}  // namespace tttlm::train
