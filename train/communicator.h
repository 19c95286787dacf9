// Communicator: what data-parallel training needs from the process group. The single-process one is
// below; MPI (CPU tensors, train/mpi_communicator.h) and NCCL (CUDA tensors, bootstrapped over MPI,
// train/nccl_communicator.h) implement the same interface. Every collective must be called by every rank
// in the same order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace tttlm::train {

// A collective in flight. wait() returns once the result is in place: for CPU tensors in memory, for CUDA
// tensors for all work queued afterwards on the caller's current stream. A collective that does not
// complete within the communicator's timeout ends the process with a message naming the operation
// (a peer that is stuck or gone cannot be recovered from; the launcher then ends the other ranks).
class PendingOp {
 public:
  virtual ~PendingOp() = default;
  virtual void wait() = 0;
};

// An error that every rank raised together (from check_same or check_all): each rank can exit normally.
// Any other exception on a rank of a multi-rank run ends that process at once without MPI_Finalize (which
// would wait for the others), so that the launcher ends the job; see apps/commands_run.cpp.
class CollectiveError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;
  // In-place sum across ranks of a contiguous f32 tensor (the caller divides to average).
  virtual void all_reduce_sum(const Tensor& t) = 0;
  // Starts the same sum and returns at once; `t` must stay alive and untouched until wait() returns.
  // The default runs it synchronously.
  virtual std::unique_ptr<PendingOp> all_reduce_sum_async(const Tensor& t);
  // In-place broadcast of a contiguous tensor from rank `root`.
  virtual void broadcast(const Tensor& t, int root) = 0;
  virtual void barrier() = 0;
  // Every rank passes a string (e.g. a config hash); throws on every rank if they differ.
  virtual void check_same(const std::string& what, const std::string& value) = 0;
  // Every rank passes "" when all is well or its error message; if any rank has an error, every rank
  // throws one naming the first such rank and its message (so a problem on one rank is reported
  // everywhere instead of leaving the others waiting in the next collective).
  virtual void check_all(const std::string& what, const std::string& error) = 0;
  // How long a collective may wait for the other ranks before the process gives up (parallel.timeout_s).
  virtual void set_timeout(double seconds) { timeout_s_ = seconds; }
  double timeout() const { return timeout_s_; }
  virtual std::string name() const = 0;
  bool is_root() const { return rank() == 0; }

 protected:
  double timeout_s_ = 300;
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  void all_reduce_sum(const Tensor&) override {}
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  void check_same(const std::string&, const std::string&) override {}
  void check_all(const std::string& what, const std::string& error) override {
    if (!error.empty()) throw CollectiveError(error);
    (void)what;
  }
  std::string name() const override { return "single"; }
};

// Runs `f` on this rank and reports through check_all: an exception on any rank becomes an error on every
// rank, naming the rank that failed and its message.
template <class F>
void on_every_rank(Communicator& comm, const std::string& what, F&& f) {
  std::string error;
  try {
    f();
  } catch (const std::exception& e) {
    error = e.what();
  }
  comm.check_all(what, error);
}

}  // namespace tttlm::train
