// Gradient all-reduce in buckets, overlapped with backward. Parameters are grouped in reverse
// declaration order (about the order backward finishes them) into buckets of parallel.bucket_mb; during
// the last micro-batch's backward each parameter's grad_ready_hook copies its final gradient into its
// bucket's flat buffer, and a bucket whose gradients are all in starts its all-reduce while backward goes
// on. Buckets start strictly in index order, so every rank issues the same collectives in the same order.
// finish() starts what is left (a parameter without a gradient counts as zeros), waits, and leaves each
// parameter's grad as a view of the summed buffer.
#pragma once

#include <memory>
#include <vector>

#include "layers/module.h"
#include "train/communicator.h"

namespace tttlm::train {

struct GradReducerStats {
  int64_t buckets = 0;
  int64_t bytes = 0;                // per all-reduce round
  int64_t started_in_backward = 0;  // buckets started before finish() (this step)
  double wait_seconds = 0;          // time finish() spent waiting (communication not hidden, this step)
};

class GradReducer {
 public:
  GradReducer(std::vector<layers::Parameter*> params, Communicator& comm, double bucket_mb);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Before the backward of the last micro-batch of a step: installs the hooks.
  void arm();
  // After that backward: completes the all-reduce and removes the hooks.
  void finish();
  const GradReducerStats& stats() const { return stats_; }
  // Bucket index of each parameter (in the order given), for tests.
  std::vector<int64_t> bucket_of() const;

 private:
  struct Bucket {
    std::vector<size_t> members;   // indices into params_
    std::vector<int64_t> offsets;  // element offset of each member in the buffer
    int64_t numel = 0;
    Tensor buffer;
    int64_t pending = 0;
    std::unique_ptr<PendingOp> op;
  };
  void ready(size_t param);
  void copy_in(size_t param);
  void start_in_order();

  std::vector<layers::Parameter*> params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<size_t, size_t>> where_;  // param -> (bucket, member)
  std::vector<bool> done_;
  size_t next_ = 0;
  bool armed_ = false;
  GradReducerStats stats_;
};

}  // namespace tttlm::train
