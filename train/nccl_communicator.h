// NCCL communicator (CUDA tensors): one GPU per rank, chosen by the local rank; bootstrapped over MPI (rank
// 0 makes the ncclUniqueId and broadcasts it with MPI_Bcast). All-reduces and broadcasts of CUDA tensors
// run on a communication stream that first waits for the caller's stream, so gradient buckets are summed
// while backward kernels keep running; waiting polls the completion event against parallel.timeout_s and
// aborts the NCCL communicator when a peer is stuck. CPU tensors, barriers and the start-up checks go
// through the MPI communicator underneath.
#pragma once

#include <memory>

#include "train/communicator.h"

namespace tttlm::train {

// True when tttlm was built with NCCL (a CUDA build that found nccl.h and libnccl).
bool nccl_available();
// Initialises MPI and NCCL. Every rank checks that its GPU (local rank) exists; if one lacks it, every
// rank fails with a message naming it. Throws when tttlm was built without NCCL.
std::unique_ptr<Communicator> make_nccl_communicator();

}  // namespace tttlm::train
