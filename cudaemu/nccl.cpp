// NCCL for the CUDA emulator: the collectives tttlm uses, carried out over MPI (device memory is host
// memory here). ncclCommInitRank duplicates MPI_COMM_WORLD, so the NCCL ranks must be the MPI ranks, as
// they are in tttlm (the unique id travels over MPI first). A collective has completed when its call
// returns; every buffer is checked to be device memory of the size the call implies.
#include <mpi.h>
#include <nccl.h>

#include <cstring>
#include <string>
#include <vector>

#include "cudaemu/block.h"
#include "cudaemu/memory.h"

struct ncclComm {
  MPI_Comm comm;
  int rank, size;
};

namespace {

bool mpi_type(ncclDataType_t t, MPI_Datatype* out, size_t* bytes) {
  switch (t) {
    case ncclInt8:
      *out = MPI_INT8_T;
      *bytes = 1;
      return true;
    case ncclUint8:
      *out = MPI_UINT8_T;
      *bytes = 1;
      return true;
    case ncclInt32:
      *out = MPI_INT32_T;
      *bytes = 4;
      return true;
    case ncclUint32:
      *out = MPI_UINT32_T;
      *bytes = 4;
      return true;
    case ncclInt64:
      *out = MPI_INT64_T;
      *bytes = 8;
      return true;
    case ncclUint64:
      *out = MPI_UINT64_T;
      *bytes = 8;
      return true;
    case ncclFloat32:
      *out = MPI_FLOAT;
      *bytes = 4;
      return true;
    case ncclFloat64:
      *out = MPI_DOUBLE;
      *bytes = 8;
      return true;
    default:
      return false;  // half and bfloat16 have no MPI type
  }
}

bool device(const void* p, size_t n, const char* what) {
  std::string why = tttlm::cudaemu::describe_range(p, n);
  if (why.empty()) return true;
  tttlm::cudaemu::record_error(cudaErrorInvalidValue,
                               std::string(what) + ": buffer of " + std::to_string(n) + " bytes " + why);
  return false;
}

}  // namespace

extern "C" {

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  std::memset(id, 0, sizeof *id);
  std::memcpy(id->internal, "tttlm-cuda-emulator", 19);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  int inited = 0, size = 0, me = 0;
  MPI_Initialized(&inited);
  if (!inited || std::memcmp(id.internal, "tttlm-cuda-emulator", 19) != 0) return ncclInvalidUsage;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (size != nranks || me != rank) return ncclInvalidArgument;
  auto* c = new ncclComm{MPI_COMM_NULL, rank, nranks};
  if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
    delete c;
    return ncclSystemError;
  }
  *comm = c;
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return ncclInvalidArgument;
  int fin = 0;
  MPI_Finalized(&fin);
  if (!fin) MPI_Comm_free(&comm->comm);
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* err) {
  *err = ncclSuccess;
  return comm ? ncclSuccess : ncclInvalidArgument;
}

const char* ncclGetErrorString(ncclResult_t r) {
  switch (r) {
    case ncclSuccess:
      return "no error";
    case ncclSystemError:
      return "unhandled system error (emulated NCCL over MPI)";
    case ncclInvalidArgument:
      return "invalid argument (emulated NCCL over MPI)";
    case ncclInvalidUsage:
      return "invalid usage (emulated NCCL over MPI)";
    default:
      return "unhandled error (emulated NCCL over MPI)";
  }
}

ncclResult_t ncclAllReduce(const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t) {
  MPI_Datatype t;
  size_t bytes;
  if (!comm || !mpi_type(type, &t, &bytes) || count > size_t(INT32_MAX)) return ncclInvalidArgument;
  if (!device(send, count * bytes, "ncclAllReduce") || !device(recv, count * bytes, "ncclAllReduce"))
    return ncclInvalidArgument;
  MPI_Op mop = op == ncclSum || op == ncclAvg ? MPI_SUM
               : op == ncclProd               ? MPI_PROD
               : op == ncclMax                ? MPI_MAX
               : op == ncclMin                ? MPI_MIN
                                              : MPI_OP_NULL;
  if (mop == MPI_OP_NULL) return ncclInvalidArgument;
  int rc = MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, static_cast<int>(count), t, mop, comm->comm);
  if (rc != MPI_SUCCESS) return ncclSystemError;
  if (op == ncclAvg) {
    if (type == ncclFloat32)
      for (size_t i = 0; i < count; ++i) static_cast<float*>(recv)[i] /= static_cast<float>(comm->size);
    else if (type == ncclFloat64)
      for (size_t i = 0; i < count; ++i) static_cast<double*>(recv)[i] /= comm->size;
    else
      return ncclInvalidArgument;
  }
  return ncclSuccess;
}

ncclResult_t ncclBroadcast(const void* send, void* recv, size_t count, ncclDataType_t type, int root, ncclComm_t comm,
                           cudaStream_t) {
  MPI_Datatype t;
  size_t bytes;
  if (!comm || !mpi_type(type, &t, &bytes) || count > size_t(INT32_MAX) || root < 0 || root >= comm->size)
    return ncclInvalidArgument;
  if (!device(recv, count * bytes, "ncclBroadcast")) return ncclInvalidArgument;
  if (comm->rank == root && send != recv) {
    if (!device(send, count * bytes, "ncclBroadcast")) return ncclInvalidArgument;
    std::memmove(recv, send, count * bytes);
  }
  return MPI_Bcast(recv, static_cast<int>(count), t, root, comm->comm) == MPI_SUCCESS ? ncclSuccess : ncclSystemError;
}

}  // extern "C"
