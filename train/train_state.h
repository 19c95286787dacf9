// What a training run holds from one step to the next: the model, its AdamW state (with ZeRO-1's shard map
// when the moments are sharded), the data stream and the step count. Built once per process, from the seed
// or, on resume, from a checkpoint that is validated in full before anything of the run directory changes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/causal_lm.h"
#include "train/checkpoint.h"
#include "train/communicator.h"
#include "train/data_pipeline.h"
#include "train/optimizer.h"
#include "train/run_config.h"
#include "train/zero1.h"

namespace tttlm::train {

struct TrainState {
  std::unique_ptr<layers::CausalLM> model;
  std::vector<layers::Parameter*> params;  // model->parameters(), in declaration order
  std::unique_ptr<Zero1> zero;             // set when parallel.zero1 shards the moments across ranks
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<TrainData> data;
  int64_t step = 0;  // optimizer steps done
};

// The model initialised from train.seed on `device` (bf16 weight copies when train.precision is bf16), its
// optimizer and data stream; with `checkpoint_dir` (a resume) the model, optimizer moments and count, the
// sampler position and the step restored from it. Refuses a checkpoint whose model differs from cfg.model
// (naming the keys) or whose sampler state does not fit the data (a changed global batch, seq_len, seed or
// data). Collective when data-parallel (every rank builds its own).
TrainState build_train_state(const RunConfig& cfg, const std::string& checkpoint_dir, Device device,
                             Communicator& comm);

// The checkpoint of the state after step `state.step` (collective with ZeRO-1: the moments are gathered on
// rank 0); the model and state.json are filled on rank 0 only.
CheckpointData checkpoint_of(const TrainState& state, const RunConfig& cfg, Communicator& comm);

}  // namespace tttlm::train
