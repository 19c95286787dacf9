#include "kernels/copy.h"

#include <cstring>

#include "core/error.h"

namespace tttlm::kernels::cpu {

namespace {

template <class T>
inline double load(const void* p, int64_t i) {
  return static_cast<double>(static_cast<const T*>(p)[i]);
}
template <>
inline double load<bf16_t>(const void* p, int64_t i) {
  return bf16_t::to_float(static_cast<const uint16_t*>(p)[i]);
}

template <class S, class D>
void copy_typed(const void* src, const StridedDesc& d, void* dst, int64_t numel) {
  const S* s = static_cast<const S*>(src);
  D* o = static_cast<D*>(dst);
  if (d.ndim == 0) {
    if (numel) o[0] = static_cast<D>(static_cast<float>(s[0]));
    return;
  }
  const int64_t inner = d.shape[d.ndim - 1], inner_stride = d.strides[d.ndim - 1];
  const int64_t rows = inner ? numel / inner : 0;
#pragma omp parallel for schedule(static) if (numel > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    int64_t off = 0, rem = r;
    for (int k = d.ndim - 2; k >= 0; --k) {
      off += (rem % d.shape[k]) * d.strides[k];
      rem /= d.shape[k];
    }
    D* out = o + r * inner;
    const S* in = s + off;
    if constexpr (std::is_same_v<S, D>) {
      if (inner_stride == 1) {
        std::memcpy(out, in, inner * sizeof(D));
        continue;
      }
      for (int64_t c = 0; c < inner; ++c) out[c] = in[c * inner_stride];
    } else if constexpr (std::is_same_v<D, bf16_t>) {
      for (int64_t c = 0; c < inner; ++c) out[c] = bf16_t(static_cast<float>(in[c * inner_stride]));
    } else if constexpr (std::is_same_v<S, bf16_t>) {
      for (int64_t c = 0; c < inner; ++c) out[c] = static_cast<D>(static_cast<float>(in[c * inner_stride]));
    } else {
      for (int64_t c = 0; c < inner; ++c) out[c] = static_cast<D>(in[c * inner_stride]);
    }
  }
}

template <class S>
void copy_to_any(const void* src, const StridedDesc& d, Dtype dst_dtype, void* dst, int64_t numel) {
  switch (dst_dtype) {
    case Dtype::f32:
      return copy_typed<S, float>(src, d, dst, numel);
    case Dtype::bf16:
      return copy_typed<S, bf16_t>(src, d, dst, numel);
    case Dtype::f64:
      return copy_typed<S, double>(src, d, dst, numel);
    case Dtype::i32:
      return copy_typed<S, int32_t>(src, d, dst, numel);
    case Dtype::i64:
      return copy_typed<S, int64_t>(src, d, dst, numel);
    case Dtype::u16:
      return copy_typed<S, uint16_t>(src, d, dst, numel);
  }
}

}  // namespace

void copy_strided(Dtype src_dtype, const void* src, const StridedDesc& src_desc, Dtype dst_dtype, void* dst,
                  int64_t numel) {
  switch (src_dtype) {
    case Dtype::f32:
      return copy_to_any<float>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::bf16:
      return copy_to_any<bf16_t>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::f64:
      return copy_to_any<double>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::i32:
      return copy_to_any<int32_t>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::i64:
      return copy_to_any<int64_t>(src, src_desc, dst_dtype, dst, numel);
    case Dtype::u16:
      return copy_to_any<uint16_t>(src, src_desc, dst_dtype, dst, numel);
  }
}

namespace {
template <int kBytes>
void copy_into_typed(const void* src, const StridedDesc& sd, void* dst, const StridedDesc& dd, int64_t n) {
  struct Elem {
    unsigned char b[kBytes];
  };
  auto s = static_cast<const Elem*>(src);
  auto d = static_cast<Elem*>(dst);
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) d[strided_offset(dd, i)] = s[strided_offset(sd, i)];
}
}  // namespace

void copy_into(Dtype dtype, const void* src, const StridedDesc& src_desc, void* dst, const StridedDesc& dst_desc,
               int64_t numel) {
  switch (dtype_size(dtype)) {
    case 2:
      return copy_into_typed<2>(src, src_desc, dst, dst_desc, numel);
    case 4:
      return copy_into_typed<4>(src, src_desc, dst, dst_desc, numel);
    default:
      return copy_into_typed<8>(src, src_desc, dst, dst_desc, numel);
  }
}

}  // namespace tttlm::kernels::cpu
