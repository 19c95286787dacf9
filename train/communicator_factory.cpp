#include "train/communicator_factory.h"

#include "train/mpi_communicator.h"
#include "train/run_config.h"

namespace tttlm::train {

std::unique_ptr<Communicator> make_communicator(const TrainOptions&) {
  // backend "auto": MPI when a launcher started several ranks, else a single process. (NCCL for CUDA
  // tensors is issue 6's remaining work; CUDA training runs single-process until then.)
  if (launched_under_mpi()) return make_mpi_communicator();
  return std::make_unique<SingleProcess>();
}

}  // namespace tttlm::train
