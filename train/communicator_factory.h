// Chooses the Communicator for a run: parallel.backend, or (auto) what the launch says (one process:
// single). MPI and NCCL implementations come with the data-parallel work (issue 6).
#pragma once

#include <memory>

#include "train/communicator.h"
#include "train/trainer.h"

namespace tttlm::train {

std::unique_ptr<Communicator> make_communicator(const TrainOptions& options);

}  // namespace tttlm::train
