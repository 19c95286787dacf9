// The Slurm launch checks: the task count against MPI's world size, SLURM_LOCALID across a node, and the
// variables read from the environment.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "train/slurm_env.h"

using namespace tttlm::train;

TEST_CASE("Slurm task count must match the MPI world", "[train][slurm]") {
  SlurmTasks s;
  s.ntasks = 4, s.procid = 2, s.localid = 0;
  REQUIRE(slurm_world_mismatch(s, 4).empty());
  const std::string err = slurm_world_mismatch(s, 1);
  REQUIRE(err.find("SLURM_NTASKS says 4 tasks (this is task SLURM_PROCID=2) but MPI found a world of 1") !=
          std::string::npos);
  REQUIRE(err.find("--mpi=pmix") != std::string::npos);
  s.ntasks = 1;  // one task: a plain single-process run
  REQUIRE(slurm_world_mismatch(s, 1).empty());
  REQUIRE(slurm_describes(SlurmTasks{4, 2, 0}, 2, 4));
  REQUIRE_FALSE(slurm_describes(SlurmTasks{2, 1, 0}, 5, 16));  // mpirun inside an allocation: daemons' step
}

TEST_CASE("SLURM_LOCALID must hold 0..n-1 once on a node", "[train][slurm]") {
  REQUIRE(slurm_localid_error({1, 0, 2}, "n1").empty());
  REQUIRE(slurm_localid_error({0, 0}, "n1") ==
          "[slurm] SLURM_LOCALID on host n1: expected each of 0..1 once across the 2 ranks MPI places on this node; "
          "found 0, 0");
  REQUIRE(slurm_localid_error({0, -1}, "n1").find("found 0, -1") != std::string::npos);
  REQUIRE(slurm_localid_error({1, 2}, "n1").find("found 1, 2") != std::string::npos);
}

TEST_CASE("Slurm variables are read, SLURM_STEP_NUM_TASKS first", "[train][slurm]") {
  ::setenv("SLURM_NTASKS", "8", 1);
  ::setenv("SLURM_PROCID", "3", 1);
  ::setenv("SLURM_LOCALID", "1", 1);
  ::unsetenv("SLURM_STEP_NUM_TASKS");
  SlurmTasks s = read_slurm_tasks();
  REQUIRE((s.ntasks == 8 && s.procid == 3 && s.localid == 1 && s.multi_task()));
  ::setenv("SLURM_STEP_NUM_TASKS", "2", 1);
  REQUIRE(read_slurm_tasks().ntasks == 2);
  ::setenv("SLURM_PROCID", "x3", 1);
  REQUIRE_THROWS_WITH(read_slurm_tasks(),
                      Catch::Contains("SLURM_PROCID: expected a non-negative integer; found \"x3\""));
  for (const char* v : {"SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_STEP_NUM_TASKS"}) ::unsetenv(v);
  s = read_slurm_tasks();
  REQUIRE((s.ntasks == -1 && s.procid == -1 && s.localid == -1 && !s.multi_task()));
}
