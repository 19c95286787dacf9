#include "train/communicator_factory.h"

#include "train/mpi_communicator.h"
#include "train/nccl_communicator.h"

namespace tttlm::train {

std::unique_ptr<Communicator> make_communicator(const RunConfig& cfg) {
  check_slurm_launch();
  if (!launched_under_mpi()) return std::make_unique<SingleProcess>();
  const std::string& backend = cfg.parallel.backend;
  // nccl when asked, or (auto) for CUDA training; the trainer rejects "single" under a multi-rank launch
  // and "mpi" with CUDA tensors on every rank.
  if (backend == "nccl" || (backend == "auto" && cfg.train.device == "cuda")) return make_nccl_communicator();
  return make_mpi_communicator();
}

}  // namespace tttlm::train
