// Byte copies between a contiguous tensor (CPU or CUDA) and a flat buffer on the same device: how the
// gradient buckets and ZeRO-1's packed broadcasts move data. On CUDA they are ordered on the current stream.
#pragma once

#include <cstring>

#include "core/cuda_runtime.h"
#include "core/tensor.h"

namespace tttlm::train {

inline void copy_to_flat(void* dst, const Tensor& src) {
  TTT_CHECK(src.is_contiguous(), "[flat_copy] source must be contiguous, got ", src.describe());
  if (src.device().is_cpu())
    std::memcpy(dst, src.data_ptr(), src.nbytes());
  else
    cuda_memcpy(dst, src.data_ptr(), src.nbytes(), CopyKind::device_to_device);
}

inline void copy_from_flat(const Tensor& dst, const void* src) {
  TTT_CHECK(dst.is_contiguous(), "[flat_copy] destination must be contiguous, got ", dst.describe());
  if (dst.device().is_cpu())
    std::memcpy(dst.data_ptr(), src, dst.nbytes());
  else
    cuda_memcpy(dst.data_ptr(), src, dst.nbytes(), CopyKind::device_to_device);
}

inline void zero_flat(void* dst, size_t nbytes, const Device& device) {
  if (device.is_cpu())
    std::memset(dst, 0, nbytes);
  else
    cuda_memset_zero(dst, nbytes);
}

}  // namespace tttlm::train
