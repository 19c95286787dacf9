// Scratch: the one RAII holder of temporary device memory in the CUDA launchers (kernels/cuda/*.cu).
#pragma once

#include <cstddef>

#include "core/allocator.h"
#include "core/cuda_runtime.h"

namespace tttlm::kernels::cuda {

// `bytes` of device memory from the caching allocator (core/allocator.h) on `device`, by default the
// current one, given back when the launcher's scope ends, by return or by throw. Giving it back right after
// queueing the kernels that use it is safe: every launch goes to the current stream, and the allocator hands
// the block out again only to work queued after them there. Zero bytes allocate nothing and get() is
// nullptr, which kernels read as "output not wanted".
class Scratch {
 public:
  explicit Scratch(size_t bytes, int device = cuda_current_device())
      : device_(device), p_(bytes ? cuda_alloc(bytes, device) : nullptr) {}
  ~Scratch() { cuda_free(p_, device_); }  // a no-op for nullptr
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  void* get() const { return p_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  int device_;
  void* p_;
};

}  // namespace tttlm::kernels::cuda
