// ZeRO stage 1 (Rajbhandari et al. 2020): the AdamW moments are sharded across the data-parallel ranks.
// Rank r owns a contiguous run of parameters (in declaration order, balanced by element count), keeps
// their moments and updates them; gradients are still summed in full on every rank (so clipping sees the
// same global norm), and after the step each rank broadcasts its updated parameters, packed into one flat
// buffer. The arithmetic of every update is the plain optimizer's, so ZeRO-1 gives the same bits as plain
// data parallelism. Checkpoints hold the full optimizer state gathered on rank 0 (the plain format), so a
// run resumes with or without ZeRO-1 and on any world size.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "train/communicator.h"
#include "train/optimizer.h"

namespace tttlm::train {

class Zero1 {
 public:
  Zero1(std::vector<layers::Parameter*> params, Communicator& comm);
  // Ownership flags for AdamW on this rank.
  std::vector<bool> owned() const;
  int owner(size_t param) const { return owner_[param]; }
  // Collective, after AdamW::step: every rank receives the parameters the others updated.
  void share_parameters();
  // Collective: the moments of every parameter (NAME.m, NAME.v) on rank 0; an empty map elsewhere.
  std::map<std::string, Tensor> gather_state(const AdamW& opt);

 private:
  struct Slot {
    Tensor tensor;  // undefined: received but not kept
    int64_t numel;
  };
  // Broadcasts, for each rank r, the slots `pack` gives for r's run from r (one flat buffer of their
  // concatenation) and copies them into the slots `unpack` gives on the other ranks.
  template <class Pack, class Unpack>
  void broadcast_runs(Pack&& pack, Unpack&& unpack);

  std::vector<layers::Parameter*> params_;
  Communicator& comm_;
  std::vector<int> owner_;                      // per parameter
  std::vector<std::pair<size_t, size_t>> run_;  // per rank: [begin, end) of params_
  Tensor buffer_;                               // flat f32 scratch, sized for the largest run (x2 for moments)
};

}  // namespace tttlm::train
