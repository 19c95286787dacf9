// Activation recompute of a region (what other frameworks call activation checkpointing; in tttlm a
// "checkpoint" is only a run snapshot on disk): the forward runs `fn` without recording, keeping only
// its inputs; backward runs `fn` again with recording on and backpropagates through that fresh graph.
// Parameters captured by `fn` receive their gradients during that inner backward. `fn` must be
// deterministic (tttlm's ops are; anything random must take its key from the inputs).
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace tttlm::autograd {

using RegionFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

std::vector<Tensor> recompute(const RegionFn& fn, const std::vector<Tensor>& inputs);

}  // namespace tttlm::autograd
