// Per-call settings that a forward pass needs beyond its inputs.
#pragma once

namespace tttlm::layers {

struct ForwardContext {
  double ttt_lr_mult = 1.0;  // TTT-MLP inner-lr warmup multiplier (docs/spec/ttt.md §4); 1 at evaluation
};

}  // namespace tttlm::layers
