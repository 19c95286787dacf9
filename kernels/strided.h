// What kernels know of a tensor view: a pointer plus up to kMaxDims sizes and element strides. Ops fill it
// from a Tensor (kernels never see Tensor). Plain data, passed by value to CUDA kernels.
#pragma once

#include <cstdint>

namespace tttlm::kernels {

constexpr int kMaxDims = 8;

struct StridedDesc {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

// Element offset of linear (row-major) index i in a view.
#if defined(__CUDACC__)
__host__ __device__
#endif
    inline int64_t
    strided_offset(const StridedDesc& d, int64_t i) {
  int64_t off = 0;
  for (int k = d.ndim - 1; k >= 0; --k) {
    int64_t idx = i % d.shape[k];
    i /= d.shape[k];
    off += idx * d.strides[k];
  }
  return off;
}

}  // namespace tttlm::kernels
