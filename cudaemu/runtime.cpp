// The CUDA runtime API, as the emulator provides it: the functions tttlm calls, declared by the toolkit's
// cuda_runtime_api.h and defined here, so core/ and train/ compile unchanged and link against this
// library instead of libcudart. Everything is synchronous: a copy, a memset or a kernel has finished when
// its call returns, so streams and events only keep their handles and their error checks.
//
// Environment: TTTLM_CUDA_EMU_DEVICES (number of emulated devices, default 1; 0 = none, like a machine
// without a GPU), TTTLM_CUDA_EMU_INIT_ERROR (a cudaError_t number that initialisation fails with, to test
// how start-up errors are reported, e.g. 35 = cudaErrorInsufficientDriver).
#include <cuda_runtime_api.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "cudaemu/block.h"
#include "cudaemu/memory.h"

namespace tttlm::cudaemu {
namespace {

thread_local int current_device = 0;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

cudaError_t init_error() { return static_cast<cudaError_t>(env_int("TTTLM_CUDA_EMU_INIT_ERROR", 0)); }
int device_count() { return env_int("TTTLM_CUDA_EMU_DEVICES", 1); }

cudaError_t fail(cudaError_t err, const std::string& message) {
  record_error(err, message);
  return err;
}

cudaError_t check_device(int device, const char* call) {
  if (cudaError_t e = init_error()) return fail(e, std::string(call) + ": initialisation failed");
  if (device < 0 || device >= device_count())
    return fail(cudaErrorInvalidDevice, std::string(call) + ": device " + std::to_string(device) + " of " +
                                            std::to_string(device_count()) + " emulated devices");
  return cudaSuccess;
}

// The emulated device's memory: the host's, or TTTLM_CUDA_EMU_MEMORY_BYTES (to emulate a smaller GPU; its
// cudaMalloc then fails beyond it like a full GPU).
size_t host_memory_bytes() {
  static const size_t bytes = [] {
    if (const char* s = std::getenv("TTTLM_CUDA_EMU_MEMORY_BYTES"); s && *s)
      return static_cast<size_t>(std::strtoull(s, nullptr, 10));
    return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  }();
  return bytes;
}

struct Handles {
  std::mutex mu;
  std::set<void*> streams, events;
};
Handles& handles() {
  static Handles* h = new Handles;
  return *h;
}

cudaError_t check_handle(std::set<void*>& set, void* h, const char* call) {
  std::lock_guard<std::mutex> lock(handles().mu);
  if (!set.count(h)) return fail(cudaErrorInvalidResourceHandle, std::string(call) + ": unknown handle");
  return cudaSuccess;
}
// Streams and events are opaque, registered handles: created here, checked on every use, destroyed once.
template <class H>
cudaError_t new_handle(std::set<void*>& set, H* out) {
  *out = reinterpret_cast<H>(new char);
  std::lock_guard<std::mutex> lock(handles().mu);
  set.insert(*out);
  return cudaSuccess;
}
cudaError_t destroy_handle(std::set<void*>& set, void* h, const char* call) {
  if (cudaError_t e = check_handle(set, h, call)) return e;
  std::lock_guard<std::mutex> lock(handles().mu);
  set.erase(h);
  delete static_cast<char*>(h);
  return cudaSuccess;
}
cudaError_t check_stream(cudaStream_t s, const char* call) {
  return s == nullptr ? cudaSuccess : check_handle(handles().streams, s, call);
}

const char* code_text(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorMisalignedAddress:
      return "misaligned address";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    default:
      return "unknown error";
  }
}

}  // namespace
}  // namespace tttlm::cudaemu

using namespace tttlm::cudaemu;

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 0;
  if (cudaError_t e = init_error()) return fail(e, "cudaGetDeviceCount: initialisation failed");
  *count = device_count();
  if (*count == 0) return fail(cudaErrorNoDevice, "TTTLM_CUDA_EMU_DEVICES=0");
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (cudaError_t e = check_device(device, "cudaSetDevice")) return e;
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (cudaError_t e = init_error()) return fail(e, "cudaGetDevice: initialisation failed");
  *device = current_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (cudaError_t e = check_device(device, "cudaGetDeviceProperties")) return e;
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "tttlm CUDA emulator (sm_90 rules, on the CPU)");
  p->totalGlobalMem = host_memory_bytes();
  p->sharedMemPerBlock = kDefaultSharedPerBlock;
  p->sharedMemPerBlockOptin = kOptinSharedPerBlock;
  p->regsPerBlock = 65536;
  p->warpSize = kWarpSize;
  p->maxThreadsPerBlock = kMaxThreadsPerBlock;
  p->maxThreadsDim[0] = 1024;
  p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = kMaxBlockDimZ;
  p->maxGridSize[0] = static_cast<int>(kMaxGridX);
  p->maxGridSize[1] = p->maxGridSize[2] = static_cast<int>(kMaxGridYZ);
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (cudaError_t e = check_device(device, "cudaDeviceGetAttribute")) return e;
  switch (attr) {
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(kOptinSharedPerBlock);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(kDefaultSharedPerBlock);
      break;
    case cudaDevAttrMaxThreadsPerBlock:
      *value = kMaxThreadsPerBlock;
      break;
    case cudaDevAttrWarpSize:
      *value = kWarpSize;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = 132;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = 9;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = 0;
      break;
    default:
      return fail(cudaErrorInvalidValue,
                  "cudaDeviceGetAttribute: attribute " + std::to_string(int(attr)) + " is not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  *total = host_memory_bytes();
  size_t used = device_bytes_in_use(current_device);
  *free_bytes = used < *total ? *total - used : 0;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t size) {
  *p = nullptr;
  if (cudaError_t e = check_device(current_device, "cudaMalloc")) return e;
  if (device_bytes_in_use(current_device) + size > host_memory_bytes())
    return fail(cudaErrorMemoryAllocation,
                "cudaMalloc of " + std::to_string(size) + " bytes: the emulated device has " +
                    std::to_string(host_memory_bytes()) + " bytes (TTTLM_CUDA_EMU_MEMORY_BYTES)");
  *p = device_alloc(size, current_device);
  if (!*p) return fail(cudaErrorMemoryAllocation, "cudaMalloc of " + std::to_string(size) + " bytes");
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  if (!device_free(p)) return fail(cudaErrorInvalidValue, "cudaFree of a pointer that cudaMalloc did not return");
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s) {
  if (cudaError_t e = check_stream(s, "cudaMemcpyAsync")) return e;
  if (n == 0) return cudaSuccess;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice)
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: only explicit copy kinds are emulated");
  std::string why;
  if (dst_dev && !(why = describe_range(dst, n)).empty())
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: destination of " + std::to_string(n) + " bytes " + why);
  if (src_dev && !(why = describe_range(src, n)).empty())
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: source of " + std::to_string(n) + " bytes " + why);
  if (!dst_dev && is_device_range(dst, 1))
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: host destination is device memory");
  if (!src_dev && is_device_range(src, 1))
    return fail(cudaErrorInvalidValue, "cudaMemcpyAsync: host source is device memory");
  std::memmove(dst, src, n);
  if (kind == cudaMemcpyDeviceToHost) count_device_to_host_copy();
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, n, kind, nullptr);
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t s) {
  if (cudaError_t e = check_stream(s, "cudaMemsetAsync")) return e;
  if (n == 0) return cudaSuccess;
  std::string why = describe_range(p, n);
  if (!why.empty()) return fail(cudaErrorInvalidValue, "cudaMemsetAsync of " + std::to_string(n) + " bytes " + why);
  std::memset(p, value, n);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t n) { return cudaMemsetAsync(p, value, n, nullptr); }

cudaError_t cudaDeviceSynchronize() {
  return peek_last_error() == cudaErrorLaunchFailure ? take_last_error() : cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) { return check_stream(s, "cudaStreamSynchronize"); }

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) { return new_handle(handles().streams, s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s) return cudaSuccess;  // the legacy default stream is not destroyed
  return destroy_handle(handles().streams, s, "cudaStreamDestroy");
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  if (cudaError_t r = check_stream(s, "cudaStreamWaitEvent")) return r;
  return check_handle(handles().events, e, "cudaStreamWaitEvent");
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, 0); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) { return new_handle(handles().events, e); }
cudaError_t cudaEventDestroy(cudaEvent_t e) { return destroy_handle(handles().events, e, "cudaEventDestroy"); }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (cudaError_t r = check_stream(s, "cudaEventRecord")) return r;
  return check_handle(handles().events, e, "cudaEventRecord");
}
cudaError_t cudaEventQuery(cudaEvent_t e) { return check_handle(handles().events, e, "cudaEventQuery"); }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return check_handle(handles().events, e, "cudaEventSynchronize"); }

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: only MaxDynamicSharedMemorySize is emulated");
  if (cudaError_t e = set_max_dynamic_shared(func, value))
    return fail(e, "cudaFuncSetAttribute: " + std::to_string(value) + " bytes exceeds the opt-in limit of " +
                       std::to_string(kOptinSharedPerBlock));
  return cudaSuccess;
}

cudaError_t cudaGetLastError() { return take_last_error(); }
cudaError_t cudaPeekAtLastError() { return peek_last_error(); }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInsufficientDriver:
      return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorMisalignedAddress:
      return "cudaErrorMisalignedAddress";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    default:
      return "cudaErrorUnknown";
  }
}

// The code's text, with the emulator's explanation when it is the code of the most recent error.
const char* cudaGetErrorString(cudaError_t e) {
  thread_local std::string text;
  text = code_text(e);
  if (e != cudaSuccess && e == last_detail_code() && *last_error_detail())
    text += std::string(" [cuda emulator: ") + last_error_detail() + "]";
  return text.c_str();
}

}  // extern "C"
