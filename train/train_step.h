// One optimizer step, the outer loop of training: for each of the step's micro-batches a forward pass (the
// TTT layers run their inner loop inside it) and a backward pass accumulating gradients; the gradients
// summed across data-parallel ranks; the global gradient norm clipped; AdamW at the scheduled learning rate.
#pragma once

#include "layers/causal_lm.h"
#include "train/communicator.h"
#include "train/grad_reducer.h"
#include "train/run_config.h"
#include "train/train_state.h"

namespace tttlm::train {

struct StepStats {
  int64_t step = 0;        // the step just done (1-based)
  double loss = 0;         // mean over the step's micro-batches and ranks
  double grad_norm = 0;    // before clipping
  double lr = 0;           // the learning rate of this update
  double ttt_lr_mult = 0;  // the TTT inner learning rate's warmup factor at this step
  double seconds = 0;      // wall time of the step
  int stop_signal = 0;     // a stop signal (SIGTERM, SIGUSR1, SIGINT) seen on any rank during the step, or 0
};

// Runs step state.step + 1 and advances state.step. `accumulation` micro-batches per rank; `reducer` (null
// on one rank) sums gradients across ranks, overlapped with the last micro-batch's backward. Throws
// RuntimeError, before the update, when the loss or the gradient norm is not finite, naming the step and
// the last checkpoint in cfg.train.run_dir (the last good one: a non-finite model is never saved).
StepStats train_step(TrainState& state, const RunConfig& cfg, Communicator& comm, GradReducer* reducer, Device device,
                     int64_t accumulation);

}  // namespace tttlm::train
