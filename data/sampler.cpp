// Feistel + cycle-walking permutation (Black & Rogaway, "Ciphers with arbitrary finite domains", 2002),
// Philox as the round function, and the (epoch, position) bookkeeping of the global batch stream.
#include "data/sampler.h"

#include "core/error.h"
#include "core/philox.h"

namespace tttlm::data {

namespace {
constexpr int kRounds = 6;
constexpr uint64_t kPurpose = 0x73616d706c657221ull;  // "sampler!": keeps these streams apart from other uses of seed
}  // namespace

const char* sample_order_name(SampleOrder order) { return order == SampleOrder::shuffled ? "shuffled" : "sequential"; }

Sampler::Sampler(const SamplerOptions& options) : options_(options) {
  const auto& o = options_;
  TTT_CHECK(o.global_batch >= 1, "[sampler] global_batch must be >= 1; got ", o.global_batch);
  TTT_CHECK(o.world_size >= 1, "[sampler] world_size must be >= 1; got ", o.world_size);
  TTT_CHECK(o.rank >= 0 && o.rank < o.world_size, "[sampler] rank must be in [0, ", o.world_size, "); got ", o.rank);
  TTT_CHECK(o.global_batch % o.world_size == 0, "[sampler] global_batch ", o.global_batch,
            " must be divisible by the world size ", o.world_size, " (each rank takes global_batch / world_size ",
            "samples); use a global batch that is a multiple of ", o.world_size);
  TTT_CHECK(o.num_samples >= static_cast<uint64_t>(o.global_batch), "[sampler] the dataset has ", o.num_samples,
            " samples, fewer than one global batch of ", o.global_batch, " (drop_last would leave no step)");
  steps_per_epoch_ = o.num_samples / static_cast<uint64_t>(o.global_batch);
  // Smallest even bit count 2*half with 2^(2*half) >= S (at least 2 bits so both halves exist).
  half_bits_ = 1;
  while (half_bits_ < 32 && (uint64_t{1} << (2 * half_bits_)) < o.num_samples) ++half_bits_;
}

uint64_t Sampler::permute(uint64_t epoch, uint64_t x) const {
  const uint64_t mask = (uint64_t{1} << half_bits_) - 1;
  uint64_t left = x >> half_bits_, right = x & mask;
  for (int r = 0; r < kRounds; ++r) {
    uint64_t f = philox::philox4x32(right, epoch * kRounds + static_cast<uint64_t>(r), options_.seed ^ kPurpose).x[0];
    uint64_t mixed = left ^ (f & mask);
    left = right;
    right = mixed;
  }
  return (left << half_bits_) | right;
}

uint64_t Sampler::sample_at(uint64_t epoch, uint64_t position) const {
  TTT_CHECK(position < options_.num_samples, "[sampler] position ", position, " is out of range for ",
            options_.num_samples, " samples");
  if (options_.order == SampleOrder::sequential) return position;
  // Cycle walking: apply the bijection on [0, 2^(2*half)) until the value lands in [0, S). The walk
  // from a point of [0, S) returns to [0, S) before it cycles, so this is a permutation of [0, S).
  uint64_t x = position;
  do {
    x = permute(epoch, x);
  } while (x >= options_.num_samples);
  return x;
}

std::vector<uint64_t> Sampler::next() {
  const uint64_t local = static_cast<uint64_t>(local_batch());
  const uint64_t first = state_.position + static_cast<uint64_t>(options_.rank) * local;
  std::vector<uint64_t> out(local);
  for (uint64_t k = 0; k < local; ++k) out[k] = sample_at(state_.epoch, first + k);
  state_.position += static_cast<uint64_t>(options_.global_batch);
  if (state_.position / static_cast<uint64_t>(options_.global_batch) >= steps_per_epoch_) {
    ++state_.epoch;
    state_.position = 0;
  }
  return out;
}

void Sampler::set_state(const SamplerState& state) {
  const uint64_t g = static_cast<uint64_t>(options_.global_batch);
  TTT_CHECK(state.position % g == 0 && state.position / g < steps_per_epoch_, "[sampler] state position ",
            state.position, " must be a multiple of global_batch ", g, " below ", steps_per_epoch_ * g,
            " (steps_per_epoch ", steps_per_epoch_, ")");
  state_ = state;
}

nlohmann::json Sampler::state_json() const {
  return {{"epoch", state_.epoch},
          {"position", state_.position},
          {"num_samples", options_.num_samples},
          {"global_batch", options_.global_batch},
          {"seed", options_.seed},
          {"order", sample_order_name(options_.order)}};
}

void Sampler::load_state_json(const nlohmann::json& j) {
  TTT_CHECK(j.is_object(), "[sampler] state must be a JSON object; got ", j.dump());
  auto field = [&](const char* key) -> const nlohmann::json& {
    TTT_CHECK(j.contains(key), "[sampler] state lacks the key '", key, "'; got ", j.dump());
    return j.at(key);
  };
  auto u64 = [&](const char* key) {
    const auto& v = field(key);
    TTT_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), "[sampler] state key '", key,
              "' must be a non-negative integer; got ", v.dump());
    return v.get<uint64_t>();
  };
  uint64_t num_samples = u64("num_samples"), global_batch = u64("global_batch"), seed = u64("seed");
  const auto& order = field("order");
  TTT_CHECK(num_samples == options_.num_samples, "[sampler] the state was saved for ", num_samples,
            " samples; the dataset now has ", options_.num_samples, " (different data or seq_len?)");
  TTT_CHECK(global_batch == static_cast<uint64_t>(options_.global_batch), "[sampler] the state was saved with ",
            "global_batch ", global_batch, "; this run uses ", options_.global_batch);
  TTT_CHECK(seed == options_.seed, "[sampler] the state was saved with seed ", seed, "; this run uses ", options_.seed);
  TTT_CHECK(order.is_string() && order.get<std::string>() == sample_order_name(options_.order),
            "[sampler] the state was saved with order ", order.dump(), "; this run uses \"",
            sample_order_name(options_.order), "\"");
  set_state({u64("epoch"), u64("position")});
}

}  // namespace tttlm::data
