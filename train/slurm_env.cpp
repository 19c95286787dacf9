#include "train/slurm_env.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace tttlm::train {

namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  TTT_CHECK(*end == '\0' && x >= 0 && x < (1L << 30), "[slurm] environment variable ", name,
            ": expected a non-negative integer; found \"", v, "\"");
  return static_cast<int>(x);
}

}  // namespace

SlurmTasks read_slurm_tasks() {
  SlurmTasks s;
  s.ntasks = env_int("SLURM_STEP_NUM_TASKS");
  if (s.ntasks < 0) s.ntasks = env_int("SLURM_NTASKS");
  s.procid = env_int("SLURM_PROCID");
  s.localid = env_int("SLURM_LOCALID");
  return s;
}

std::string slurm_world_mismatch(const SlurmTasks& s, int mpi_world) {
  if (!s.multi_task() || mpi_world == s.ntasks) return "";
  return "[slurm] SLURM_NTASKS says " + std::to_string(s.ntasks) +
         " tasks (this is task SLURM_PROCID=" + std::to_string(s.procid) + ") but MPI found a world of " +
         std::to_string(mpi_world) +
         " process(es): srun started the ranks without connecting them, and each would train alone into the same "
         "run directory. Launch with MPI support (srun --mpi=pmix or pmi2; check `srun --mpi=list`) or mpirun; "
         "for a single process inside a batch allocation, use `srun -n 1` or unset SLURM_NTASKS";
}

bool slurm_describes(const SlurmTasks& s, int mpi_rank, int mpi_world) {
  return s.ntasks == mpi_world && s.procid == mpi_rank;
}

std::string slurm_localid_error(const std::vector<int>& node_localids, const std::string& host) {
  std::vector<int> sorted = node_localids;
  std::sort(sorted.begin(), sorted.end());
  bool ok = true;
  for (size_t i = 0; i < sorted.size(); ++i) ok = ok && sorted[i] == static_cast<int>(i);
  if (ok) return "";
  std::string found;
  for (size_t i = 0; i < node_localids.size(); ++i) found += (i ? ", " : "") + std::to_string(node_localids[i]);
  return "[slurm] SLURM_LOCALID on host " + host + ": expected each of 0.." +
         std::to_string(static_cast<int>(node_localids.size()) - 1) + " once across the " +
         std::to_string(node_localids.size()) + " ranks MPI places on this node; found " + found;
}

}  // namespace tttlm::train
