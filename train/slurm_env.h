// Slurm's srun starts every rank itself and tells it its place in SLURM_PROCID (rank), SLURM_NTASKS or
// SLURM_STEP_NUM_TASKS (world size) and SLURM_LOCALID (rank on its node). MPI, initialised through PMI/PMIx,
// knows the rank and world size already; these helpers check that the two agree and give the local rank
// that picks the GPU.
#pragma once

#include <string>
#include <vector>

namespace tttlm::train {

struct SlurmTasks {
  int ntasks = -1;   // SLURM_STEP_NUM_TASKS (this srun step), else SLURM_NTASKS; -1 when neither is set
  int procid = -1;   // SLURM_PROCID; -1 when unset
  int localid = -1;  // SLURM_LOCALID; -1 when unset
  // srun started several tasks: the variables name a multi-rank launch.
  bool multi_task() const { return ntasks > 1 && procid >= 0; }
};

// Reads the variables; a malformed value (not a non-negative integer) raises naming the variable.
SlurmTasks read_slurm_tasks();

// The error to raise when Slurm says `s.ntasks` tasks but MPI found a world of `mpi_world` (a binary without
// MPI support, or srun without --mpi=pmix/pmi2, gives N independent single-process runs); "" when they agree.
std::string slurm_world_mismatch(const SlurmTasks& s, int mpi_world);

// True when the Slurm variables describe this MPI launch (srun started the ranks directly): the task count
// equals the MPI world size and SLURM_PROCID equals the MPI rank. Under mpirun inside an allocation the
// variables describe mpirun's own daemons instead and are ignored.
bool slurm_describes(const SlurmTasks& s, int mpi_rank, int mpi_world);

// Validates the SLURM_LOCALID values of the ranks on one node (`node_localids`, in MPI node-local order):
// they must be 0..n-1, each once. Returns "" when they are, else the message naming what was found.
std::string slurm_localid_error(const std::vector<int>& node_localids, const std::string& host);

}  // namespace tttlm::train
