// MPI communicator (CPU tensors): processes started by mpirun or srun, rank/world from MPI; the local rank
// (which GPU) from SLURM_LOCALID under srun, else from MPI's per-node split (train/slurm_env.h).
// Gradients are summed with MPI_Allreduce in place; check_same compares a hash across ranks so that
// mismatched configs fail on every rank with the same message. Errors raise on every rank; a rank that
// dies makes the launcher (mpirun/srun) end the others.
#pragma once

#include <memory>

#include "train/communicator.h"

namespace tttlm::train {

// True when the process was started by an MPI launcher, or by srun, with more than one rank.
bool launched_under_mpi();
// Raises when srun says several tasks but left MPI no way to connect them (no PMI/PMIx variables): each
// task would otherwise train alone into the same run directory. A no-op outside Slurm and under mpirun.
void check_slurm_launch();
// Initialises MPI (once per process) and returns the world communicator.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace tttlm::train
