// bf16 copies of the matmul weights, for bf16 mixed-precision training (docs/precision.md). The f32
// value stays the master that the optimizer updates; a weight with `matmul_weight` set gets value_bf16 =
// bf16(value) (round to nearest even), which Linear and the LM head read instead of converting per use.
// The copies are refreshed once after each optimizer step (the trainer calls refresh_bf16_copies), and
// after materialize, to_device and load_state_dict (Module does).
#pragma once

#include <vector>

#include "layers/module.h"

namespace tttlm::layers {

// on: makes a bf16 copy of every matmul weight among params; off: drops the copies (f32 training).
void set_bf16_copies(const std::vector<Parameter*>& params, bool on);
// Re-derives every defined copy from its parameter's current value (a no-op in f32 training).
void refresh_bf16_copies(const std::vector<Parameter*>& params);

}  // namespace tttlm::layers
