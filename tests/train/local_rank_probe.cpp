// Prints "rank R world W local L" as the MPI communicator sees them (test_slurm_launch.sh runs it under
// mpirun with faked Slurm variables); errors print "error: ..." and exit 1.
#include <cstdio>
#include <exception>
#include <memory>

#include "train/mpi_communicator.h"

int main() {
  try {
    tttlm::train::check_slurm_launch();
    // As train/communicator_factory.cpp decides: MPI only for a multi-rank launch.
    std::unique_ptr<tttlm::train::Communicator> comm;
    if (tttlm::train::launched_under_mpi())
      comm = tttlm::train::make_mpi_communicator();
    else
      comm = std::make_unique<tttlm::train::SingleProcess>();
    std::printf("rank %d world %d local %d\n", comm->rank(), comm->world_size(), comm->local_rank());
    std::fflush(stdout);
    comm->barrier();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fflush(stderr);
    std::_Exit(1);  // without MPI_Finalize, which would wait for the other ranks
  }
}
