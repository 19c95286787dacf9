#include "train/nccl_communicator.h"

#include "core/cuda_runtime.h"
#include "train/mpi_communicator.h"

#if TTTLM_HAS_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#endif

namespace tttlm::train {

#if TTTLM_HAS_NCCL

namespace {

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess && rc != ncclInProgress)
    throw RuntimeError(std::string("[nccl] ") + what + " failed: " + ncclGetErrorString(rc));
}

void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw RuntimeError(std::string("[nccl] ") + what + " failed: " + cudaGetErrorString(rc));
}

class NcclCommunicator;

class NcclPending final : public PendingOp {
 public:
  NcclPending(NcclCommunicator* comm, cudaEvent_t done, std::string what)
      : comm_(comm), done_(done), what_(std::move(what)) {}
  ~NcclPending() override {
    if (done_) cudaEventDestroy(done_);
  }
  void wait() override;

 private:
  NcclCommunicator* comm_;
  cudaEvent_t done_;
  std::string what_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator() : mpi_(make_mpi_communicator()) {
    const int local = mpi_->local_rank(), visible = cuda_device_count();
    mpi_->check_all("nccl", local < visible ? std::string()
                                            : "[nccl] rank " + std::to_string(mpi_->rank()) + " (local rank " +
                                                  std::to_string(local) + "): " + cuda_device_description(local) +
                                                  "; start at most as many ranks per node as it has GPUs");
    cuda_set_device(local);
    ncclUniqueId id;
    std::string error;
    if (mpi_->rank() == 0) {
      ncclResult_t rc = ncclGetUniqueId(&id);
      if (rc != ncclSuccess) error = std::string("[nccl] ncclGetUniqueId failed: ") + ncclGetErrorString(rc);
    }
    mpi_->check_all("nccl", error);
    static_assert(sizeof(ncclUniqueId) % sizeof(int32_t) == 0);
    Tensor buf = Tensor::zeros({static_cast<int64_t>(sizeof(ncclUniqueId) / sizeof(int32_t))}, Dtype::i32);
    if (mpi_->rank() == 0) std::memcpy(buf.data_ptr(), &id, sizeof id);
    mpi_->broadcast(buf, 0);
    std::memcpy(&id, buf.data_ptr(), sizeof id);
    ncclResult_t rc = ncclCommInitRank(&comm_, mpi_->world_size(), id, mpi_->rank());
    mpi_->check_all("nccl", rc == ncclSuccess
                                ? std::string()
                                : std::string("[nccl] ncclCommInitRank failed: ") + ncclGetErrorString(rc));
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~NcclCommunicator() override {
    if (stream_) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return mpi_->rank(); }
  int world_size() const override { return mpi_->world_size(); }
  int local_rank() const override { return mpi_->local_rank(); }
  void set_timeout(double seconds) override {
    timeout_s_ = seconds;
    mpi_->set_timeout(seconds);
  }

  void all_reduce_sum(const Tensor& t) override {
    if (t.device().is_cpu()) return mpi_->all_reduce_sum(t);
    all_reduce_sum_async(t)->wait();
  }
  std::unique_ptr<PendingOp> all_reduce_sum_async(const Tensor& t) override {
    if (t.device().is_cpu()) return mpi_->all_reduce_sum_async(t);
    TTT_CHECK(t.is_contiguous() && t.dtype() == Dtype::f32, "[nccl] all_reduce_sum takes a contiguous f32 tensor, got ",
              t.describe());
    after_compute();
    check_nccl(
        ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), ncclFloat, ncclSum, comm_, stream_),
        "ncclAllReduce");
    return pending("ncclAllReduce of " + std::to_string(t.numel()) + " floats");
  }
  void broadcast(const Tensor& t, int root) override {
    if (t.device().is_cpu()) return mpi_->broadcast(t, root);
    TTT_CHECK(t.is_contiguous(), "[nccl] broadcast takes a contiguous tensor, got ", t.describe());
    after_compute();
    check_nccl(ncclBroadcast(t.data_ptr(), t.data_ptr(), t.nbytes(), ncclUint8, root, comm_, stream_), "ncclBroadcast");
    pending("ncclBroadcast of " + std::to_string(t.nbytes()) + " bytes")->wait();
  }
  void barrier() override { mpi_->barrier(); }
  void check_same(const std::string& what, const std::string& value) override { mpi_->check_same(what, value); }
  void check_all(const std::string& what, const std::string& error) override { mpi_->check_all(what, error); }
  std::string name() const override { return "nccl"; }

  // Blocks until `done` has completed, or ends the process after the timeout (aborting NCCL first).
  void finish(cudaEvent_t done, const std::string& what) {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      cudaError_t q = cudaEventQuery(done);
      if (q == cudaSuccess) break;
      if (q != cudaErrorNotReady) check_cuda(q, what.c_str());
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      check_nccl(async, what.c_str());
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s_) {
        char host[256] = {0};
        gethostname(host, sizeof host - 1);
        std::fprintf(
            stderr,
            "[nccl] rank %d of %d (%s): %s did not complete within parallel.timeout_s = %.0f s: another rank is "
            "stuck or gone; aborting NCCL and ending this process so that the launcher ends the job\n",
            rank(), world_size(), host, what.c_str(), timeout_s_);
        std::fflush(stderr);
        ncclCommAbort(comm_);
        std::_Exit(3);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    // Work the caller queues next on its stream comes after the collective.
    check_cuda(cudaStreamWaitEvent(static_cast<cudaStream_t>(cuda_current_stream()), done, 0), "cudaStreamWaitEvent");
  }

 private:
  // The communication stream waits for everything queued so far on the caller's stream (the gradient copies).
  void after_compute() {
    cudaEvent_t ev;
    check_cuda(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(ev, static_cast<cudaStream_t>(cuda_current_stream())), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, ev, 0), "cudaStreamWaitEvent");
    cudaEventDestroy(ev);
  }
  std::unique_ptr<PendingOp> pending(std::string what) {
    cudaEvent_t done;
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord");
    return std::make_unique<NcclPending>(this, done, std::move(what));
  }

  std::unique_ptr<Communicator> mpi_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

void NcclPending::wait() { comm_->finish(done_, what_); }

}  // namespace

bool nccl_available() { return true; }
std::unique_ptr<Communicator> make_nccl_communicator() { return std::make_unique<NcclCommunicator>(); }

#else

bool nccl_available() { return false; }
std::unique_ptr<Communicator> make_nccl_communicator() {
  throw RuntimeError(cuda_build_enabled()
                         ? "[nccl] this tttlm was built without NCCL (nccl.h or libnccl not found at configure time)"
                         : "[nccl] this tttlm was built without CUDA (configure with -DTTTLM_CUDA=ON)");
}

#endif

}  // namespace tttlm::train
