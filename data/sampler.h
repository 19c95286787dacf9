// Deterministic, resumable order of window indices for data-parallel training. Each epoch is a keyed
// pseudo-random permutation of [0, S): a 6-round Feistel network with Philox rounds keyed by (seed, epoch),
// cycle-walked onto [0, S). O(1) memory and time per position, so the Pile's 1.9e8 windows need no index
// table and resuming is just (epoch, position). It is not torch.randperm: to reproduce the official order,
// export it from Python (docs/spec/ttt.md §8). Sequential order (evaluation) visits 0, 1, 2, ... every epoch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace tttlm::data {

enum class SampleOrder { shuffled, sequential };

struct SamplerOptions {
  uint64_t num_samples = 0;  // S, from WindowDataset::num_samples()
  int64_t global_batch = 1;  // G: samples per optimizer step over all ranks
  int world_size = 1;        // W
  int rank = 0;
  SampleOrder order = SampleOrder::shuffled;
  uint64_t seed = 0;
};

// Where the global stream stands: `position` samples of epoch `epoch` are consumed (a multiple of G).
// The same for every rank, and independent of W, so a run may resume with another world size.
struct SamplerState {
  uint64_t epoch = 0;
  uint64_t position = 0;
  bool operator==(const SamplerState& o) const { return epoch == o.epoch && position == o.position; }
};

// A step takes the next G = global_batch positions of the epoch's order; rank r of W gets positions
// [r*G/W, (r+1)*G/W) of them (G % W == 0); an incomplete last batch is dropped (drop_last), then the next
// epoch begins.
class Sampler {
 public:
  // Throws InvalidArgument when G < 1, W < 1, rank outside [0, W), G % W != 0, or S < G.
  explicit Sampler(const SamplerOptions& options);

  const SamplerOptions& options() const { return options_; }
  int64_t local_batch() const { return options_.global_batch / options_.world_size; }  // G / W
  uint64_t steps_per_epoch() const { return steps_per_epoch_; }                        // S // G

  // The sample index at `position` in the order of `epoch` (position < S).
  uint64_t sample_at(uint64_t epoch, uint64_t position) const;
  // This rank's G/W sample indices of the next global batch; advances the state by one step.
  std::vector<uint64_t> next();

  const SamplerState& state() const { return state_; }
  // Throws InvalidArgument unless position is a multiple of G below steps_per_epoch() * G.
  void set_state(const SamplerState& state);

  // {"epoch", "position", "num_samples", "global_batch", "seed", "order"}.
  nlohmann::json state_json() const;
  // Restores a state_json(); throws InvalidArgument naming the key when a field is missing or the saved
  // num_samples, global_batch, seed or order differ from this sampler's (the data or config changed).
  void load_state_json(const nlohmann::json& j);

 private:
  uint64_t permute(uint64_t epoch, uint64_t x) const;  // the Feistel bijection on [0, 2^(2*half_bits_))
  SamplerOptions options_;
  uint64_t steps_per_epoch_ = 0;
  int half_bits_ = 1;
  SamplerState state_;
};

const char* sample_order_name(SampleOrder order);  // "shuffled", "sequential"

}  // namespace tttlm::data
