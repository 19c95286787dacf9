#include "train/mpi_communicator.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "train/slurm_env.h"

namespace tttlm::train {

namespace {

std::string mpi_error(int rc, const char* what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return std::string("[mpi] ") + what + " failed: " + std::string(msg, len);
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw RuntimeError(mpi_error(rc, what));
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Runs MPI calls one at a time on its own thread, so that the caller can wait with a timeout (a stuck peer
// ends this process with a message instead of a silent hang) and gradient all-reduces proceed while the
// caller runs backward. MPI must provide MPI_THREAD_SERIALIZED; every call after MPI_Init goes through here.
class MpiWorker {
 public:
  MpiWorker() : thread_([this] { loop(); }) {}
  ~MpiWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::future<int> submit(std::function<int()> call) {
    std::packaged_task<int()> task(std::move(call));
    std::future<int> f = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return f;
  }

 private:
  void loop() {
    for (;;) {
      std::packaged_task<int()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<int()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class MpiCommunicator;

class MpiPending final : public PendingOp {
 public:
  MpiPending(MpiCommunicator* comm, std::future<int> f, std::string what)
      : comm_(comm), future_(std::move(f)), what_(std::move(what)) {}
  void wait() override;

 private:
  MpiCommunicator* comm_;
  std::future<int> future_;
  std::string what_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int inited = 0;
    MPI_Initialized(&inited);
    int provided = 0;
    if (!inited) {
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
      std::atexit([] {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
      });
    } else {
      MPI_Query_thread(&provided);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
    const SlurmTasks slurm = read_slurm_tasks();
    if (!std::getenv("OMPI_COMM_WORLD_SIZE")) {
      const std::string err = slurm_world_mismatch(slurm, world_);
      if (!err.empty()) throw RuntimeError(err);
    }
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank_);
    // Under srun the GPU is picked by SLURM_LOCALID, provided the ranks of each node hold 0..n-1 once.
    int local_size = 1;
    MPI_Comm_size(local, &local_size);
    const int mine = slurm_describes(slurm, rank_, world_) ? slurm.localid : -1;
    std::vector<int> ids(static_cast<size_t>(local_size), -1);
    const int rc = MPI_Allgather(&mine, 1, MPI_INT, ids.data(), 1, MPI_INT, local);
    MPI_Comm_free(&local);
    check(rc, "MPI_Allgather of SLURM_LOCALID");
    if (std::any_of(ids.begin(), ids.end(), [](int id) { return id >= 0; })) {
      const std::string err = slurm_localid_error(ids, host_name());
      if (!err.empty()) throw RuntimeError(err + " (rank " + std::to_string(rank_) + ")");
      local_rank_ = mine;
    }
    if (provided >= MPI_THREAD_SERIALIZED)
      worker_ = std::make_unique<MpiWorker>();
    else if (rank_ == 0)
      std::fprintf(stderr,
                   "[mpi] this MPI library gives no MPI_THREAD_SERIALIZED: collectives run on the calling thread "
                   "(no overlap with backward, no parallel.timeout_s)\n");
  }
  ~MpiCommunicator() override { worker_.reset(); }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return local_rank_; }

  void all_reduce_sum(const Tensor& t) override { all_reduce_sum_async(t)->wait(); }
  std::unique_ptr<PendingOp> all_reduce_sum_async(const Tensor& t) override {
    TTT_CHECK(t.device().is_cpu() && t.is_contiguous() && t.dtype() == Dtype::f32,
              "[mpi] all_reduce_sum takes a contiguous f32 CPU tensor, got ", t.describe());
    void* p = t.data_ptr();
    const int64_t n = t.numel();
    TTT_CHECK(n <= INT_MAX, "[mpi] all_reduce_sum of ", n, " elements: more than MPI's int count; use smaller buckets");
    return start(
        [p, n] { return MPI_Allreduce(MPI_IN_PLACE, p, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); },
        "MPI_Allreduce of " + std::to_string(n) + " floats");
  }
  void broadcast(const Tensor& t, int root) override {
    TTT_CHECK(t.device().is_cpu() && t.is_contiguous(), "[mpi] broadcast takes a contiguous CPU tensor, got ",
              t.describe());
    void* p = t.data_ptr();
    const size_t n = t.nbytes();
    TTT_CHECK(n <= static_cast<size_t>(INT_MAX), "[mpi] broadcast of ", n, " bytes: more than MPI's int count");
    run([p, n, root] { return MPI_Bcast(p, static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD); }, "MPI_Bcast");
  }
  void barrier() override {
    run([] { return MPI_Barrier(MPI_COMM_WORLD); }, "MPI_Barrier");
  }
  void check_same(const std::string& what, const std::string& value) override {
    unsigned long long h = std::hash<std::string>{}(value), lo = 0, hi = 0;
    run([&] { return MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD); }, "MPI_Allreduce");
    run([&] { return MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD); }, "MPI_Allreduce");
    if (lo != hi)
      throw CollectiveError("[mpi] the " + what + " differs across ranks (rank " + std::to_string(rank_) +
                            " has hash " + std::to_string(h) +
                            "); every rank must be started with the same config and --set overrides");
  }
  void check_all(const std::string& what, const std::string& error) override {
    int mine = error.empty() ? INT_MAX : rank_, first = INT_MAX;
    run([&] { return MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD); }, "MPI_Allreduce");
    if (first == INT_MAX) return;
    int len = first == rank_ ? static_cast<int>(error.size()) : 0;
    run([&] { return MPI_Bcast(&len, 1, MPI_INT, first, MPI_COMM_WORLD); }, "MPI_Bcast");
    std::string msg = first == rank_ ? error : std::string(static_cast<size_t>(len), '\0');
    run([&] { return MPI_Bcast(msg.data(), len, MPI_CHAR, first, MPI_COMM_WORLD); }, "MPI_Bcast");
    if (first == rank_) throw CollectiveError(error);
    throw CollectiveError("[" + what + "] stopped on rank " + std::to_string(rank_) + " because rank " +
                          std::to_string(first) + " failed: " + msg);
  }
  std::string name() const override { return "mpi"; }

  // Waits for a started call; past the timeout, ends the process (the worker is stuck inside MPI).
  int finish(std::future<int>& f, const std::string& what) {
    using namespace std::chrono;
    if (f.wait_for(duration<double>(timeout_s_)) != std::future_status::ready) {
      std::fprintf(stderr,
                   "[mpi] rank %d of %d (%s): %s did not complete within parallel.timeout_s = %.0f s: another rank is "
                   "stuck or gone; ending this process so that the launcher ends the job\n",
                   rank_, world_, host_name().c_str(), what.c_str(), timeout_s_);
      std::fflush(stderr);
      std::_Exit(3);
    }
    return f.get();
  }

 private:
  std::unique_ptr<PendingOp> start(std::function<int()> call, std::string what) {
    if (!worker_) {
      std::promise<int> p;
      p.set_value(call());
      return std::make_unique<MpiPending>(this, p.get_future(), std::move(what));
    }
    return std::make_unique<MpiPending>(this, worker_->submit(std::move(call)), std::move(what));
  }
  // The synchronous form of `start`.
  void run(std::function<int()> call, const char* what) { start(std::move(call), what)->wait(); }

  int rank_ = 0, world_ = 1, local_rank_ = 0;
  std::unique_ptr<MpiWorker> worker_;
};

void MpiPending::wait() {
  if (!future_.valid()) return;
  int rc = comm_->finish(future_, what_);
  check(rc, what_.c_str());
}

}  // namespace

bool launched_under_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* v = std::getenv(var);
    if (v && std::atoi(v) > 1) return true;
  }
  // srun with several tasks; whether MPI connects them is checked once MPI is initialised.
  return !std::getenv("OMPI_COMM_WORLD_SIZE") && read_slurm_tasks().multi_task();
}

void check_slurm_launch() {
  if (std::getenv("OMPI_COMM_WORLD_SIZE")) return;  // mpirun started us; Slurm's variables describe its daemons
  const SlurmTasks slurm = read_slurm_tasks();
  if (!slurm.multi_task()) return;
  // No PMI or PMIx in the environment: MPI cannot learn of the other tasks, so it would make a world of 1.
  for (const char* var : {"PMI_RANK", "PMI_SIZE", "PMIX_RANK", "PMIX_NAMESPACE", "PMI_FD"})
    if (std::getenv(var)) return;
  throw RuntimeError(slurm_world_mismatch(slurm, 1));
}

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace tttlm::train
