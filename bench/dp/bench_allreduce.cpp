// All-reduce bandwidth of tttlm's gradient path against the raw collective. Run under an MPI
// launcher, e.g. `mpirun -np 2 build/bench/dp/bench_allreduce [--device cpu|cuda] [--bucket-mb 25] [--reps 10]`.
// For each size, a synthetic "model" of 64 equal parameters is summed across the ranks (1) by one raw
// MPI_Allreduce over a buffer of that size (CPU only) and (2) by GradReducer: gradients copied into
// buckets of --bucket-mb, one all-reduce per bucket through the Communicator (MPI on the CPU, NCCL on
// GPUs), the results viewed back as gradients. Bus bandwidth as nccl-tests defines it: bytes x 2(W-1)/W / time.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "layers/module.h"
#include "train/grad_reducer.h"
#include "train/mpi_communicator.h"
#include "train/nccl_communicator.h"

using namespace tttlm;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Median over repetitions of rank 0's time from a barrier to the end of `f` (an all-reduce ends at about
// the same moment on every rank).
template <class F>
double time_collective(train::Communicator& comm, bool cuda, int reps, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    comm.barrier();
    double t0 = now();
    f();
    if (cuda) cuda_synchronize();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "cpu";
  double bucket_mb = 25;
  int reps = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--device")
      device_name = argv[i + 1];
    else if (a == "--bucket-mb")
      bucket_mb = std::stod(argv[i + 1]);
    else if (a == "--reps")
      reps = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_allreduce [--device cpu|cuda] [--bucket-mb MB] [--reps N]\n");
      return 2;
    }
  }
  const bool cuda = device_name == "cuda";
  std::unique_ptr<train::Communicator> comm = cuda ? train::make_nccl_communicator() : train::make_mpi_communicator();
  const Device device = cuda ? cuda_device(comm->local_rank()) : cpu_device();
  const int W = comm->world_size();
  const double bus = W > 1 ? 2.0 * (W - 1) / W : 1.0;
  if (comm->is_root()) {
    std::printf("all-reduce of f32 gradients, %d ranks (%s), %s, buckets of %g MB, median of %d\n\n", W,
                comm->name().c_str(), cuda ? cuda_device_description(comm->local_rank()).c_str() : "CPU", bucket_mb,
                reps);
    std::printf(
        "| size MB | raw MPI_Allreduce ms | raw bus GB/s | tttlm buckets ms | tttlm bus GB/s | buckets | tttlm / raw "
        "time |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
  }
  for (double mb : {1.0, 4.0, 16.0, 64.0, 256.0}) {
    const int64_t n = static_cast<int64_t>(mb * 1024 * 1024 / 4), per = n / 64;
    const double bytes = static_cast<double>(per * 64 * 4);
    std::vector<layers::Parameter> store(64);
    std::vector<layers::Parameter*> params;
    std::vector<Tensor> grads;
    for (int i = 0; i < 64; ++i) {
      store[i].name = std::to_string(i);
      store[i].shape = {per};
      store[i].value = Tensor::full({per}, 1.0, Dtype::f32, device);
      grads.push_back(Tensor::full({per}, 1.0, Dtype::f32, device));
      params.push_back(&store[i]);
    }
    double raw = 0;
    if (!cuda) {
      Tensor flat = Tensor::full({per * 64}, 1.0, Dtype::f32);
      raw = time_collective(*comm, false, reps, [&] {
        MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(flat.numel()), MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
      });
    }
    train::GradReducer reducer(params, *comm, bucket_mb);
    const double ours = time_collective(*comm, cuda, reps, [&] {
      for (int i = 0; i < 64; ++i) params[i]->value.set_grad(grads[i]);
      reducer.arm();
      reducer.finish();
    });
    if (comm->is_root()) {
      char rawcol[64] = "-", rawbw[64] = "-", ratio[64] = "-";
      if (!cuda) {
        std::snprintf(rawcol, sizeof rawcol, "%.2f", raw * 1e3);
        std::snprintf(rawbw, sizeof rawbw, "%.2f", bytes * bus / raw / 1e9);
        std::snprintf(ratio, sizeof ratio, "%.2f", ours / raw);
      }
      std::printf("| %g | %s | %s | %.2f | %.2f | %lld | %s |\n", mb, rawcol, rawbw, ours * 1e3,
                  bytes * bus / ours / 1e9, static_cast<long long>(reducer.stats().buckets), ratio);
    }
  }
  return 0;
}
