// Chooses the Communicator for a run from the launch and the config: one process -> single; several ranks
// (mpirun/srun) -> NCCL when parallel.backend is "nccl", or "auto" with train.device "cuda"; else MPI.
#pragma once

#include <memory>

#include "train/communicator.h"
#include "train/run_config.h"

namespace tttlm::train {

std::unique_ptr<Communicator> make_communicator(const RunConfig& cfg);

}  // namespace tttlm::train
