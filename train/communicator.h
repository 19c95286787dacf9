// Communicator: what data-parallel training needs from the process group. The single-process one is
// below; MPI (CPU tensors) and NCCL (CUDA tensors, bootstrapped over MPI) implement the same interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tttlm::train {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;
  // In-place sum across ranks of a contiguous f32 tensor (the caller divides to average).
  virtual void all_reduce_sum(const Tensor& t) = 0;
  // In-place broadcast of a contiguous tensor from rank `root`.
  virtual void broadcast(const Tensor& t, int root) = 0;
  virtual void barrier() = 0;
  // Every rank passes a string (e.g. a config hash); throws on every rank if they differ.
  virtual void check_same(const std::string& what, const std::string& value) = 0;
  virtual std::string name() const = 0;
  bool is_root() const { return rank() == 0; }
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
  std::string name() const override { return "single"; }
};

}  // namespace tttlm::train
