// MPI communicator (CPU tensors): processes started by mpirun or srun, rank/world/local rank from MPI.
// Gradients are summed with MPI_Allreduce in place; check_same compares a hash across ranks so that
// mismatched configs fail on every rank with the same message. Errors raise on every rank; a rank that
// dies makes the launcher (mpirun/srun) end the others.
#pragma once

#include <memory>

#include "train/communicator.h"

namespace tttlm::train {

// True when the process was started by an MPI launcher with more than one rank.
bool launched_under_mpi();
// Initialises MPI (once per process) and returns the world communicator.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace tttlm::train
