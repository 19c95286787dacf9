#include "kernels/elementwise.h"

#include "kernels/dispatch.h"

namespace tttlm::kernels::cpu {

namespace {

template <class T, BinaryOp OP>
inline T apply(T a, T b) {
  if constexpr (OP == BinaryOp::add) return a + b;
  if constexpr (OP == BinaryOp::sub) return a - b;
  if constexpr (OP == BinaryOp::mul) return a * b;
  return a / b;
}

bool is_flat(const StridedDesc& d) {
  int64_t expect = 1;
  for (int k = d.ndim - 1; k >= 0; --k) {
    if (d.shape[k] == 1) continue;
    if (d.strides[k] != expect) return false;
    expect *= d.shape[k];
  }
  return true;
}
bool is_scalar(const StridedDesc& d) {
  for (int k = 0; k < d.ndim; ++k)
    if (d.shape[k] != 1 && d.strides[k] != 0) return false;
  return true;
}

template <class T, BinaryOp OP>
void binary_typed(const T* a, const StridedDesc& ad, const T* b, const StridedDesc& bd, T* out, int64_t n) {
  const bool af = is_flat(ad), bf = is_flat(bd), as = is_scalar(ad), bs = is_scalar(bd);
  if (af && bf) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) out[i] = apply<T, OP>(a[i], b[i]);
    return;
  }
  if (af && bs) {
    const T bv = b[0];
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) out[i] = apply<T, OP>(a[i], bv);
    return;
  }
  if (as && bf) {
    const T av = a[0];
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) out[i] = apply<T, OP>(av, b[i]);
    return;
  }
  // General broadcast: iterate rows of the innermost dimension.
  const int nd = ad.ndim;
  const int64_t inner = nd ? ad.shape[nd - 1] : 1;
  const int64_t sa = nd ? ad.strides[nd - 1] : 0, sb = nd ? bd.strides[nd - 1] : 0;
  const int64_t rows = inner ? n / inner : 0;
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    int64_t oa = 0, ob = 0, rem = r;
    for (int k = nd - 2; k >= 0; --k) {
      int64_t idx = rem % ad.shape[k];
      rem /= ad.shape[k];
      oa += idx * ad.strides[k];
      ob += idx * bd.strides[k];
    }
    T* o = out + r * inner;
    for (int64_t c = 0; c < inner; ++c) o[c] = apply<T, OP>(a[oa + c * sa], b[ob + c * sb]);
  }
}

}  // namespace

void binary_forward(BinaryOp op, Dtype dtype, const void* a, const StridedDesc& a_desc, const void* b,
                    const StridedDesc& b_desc, void* out, int64_t numel) {
  dispatch_float(dtype, "binary", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto A = static_cast<const scalar_t*>(a);
    auto B = static_cast<const scalar_t*>(b);
    auto O = static_cast<scalar_t*>(out);
    switch (op) {
      case BinaryOp::add:
        return binary_typed<scalar_t, BinaryOp::add>(A, a_desc, B, b_desc, O, numel);
      case BinaryOp::sub:
        return binary_typed<scalar_t, BinaryOp::sub>(A, a_desc, B, b_desc, O, numel);
      case BinaryOp::mul:
        return binary_typed<scalar_t, BinaryOp::mul>(A, a_desc, B, b_desc, O, numel);
      case BinaryOp::div:
        return binary_typed<scalar_t, BinaryOp::div>(A, a_desc, B, b_desc, O, numel);
    }
  });
}

void affine_forward(Dtype dtype, const void* x, void* out, int64_t n, double alpha, double beta) {
  dispatch_float(dtype, "affine", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto O = static_cast<scalar_t*>(out);
    const scalar_t al = static_cast<scalar_t>(alpha), be = static_cast<scalar_t>(beta);
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) O[i] = al * X[i] + be;
  });
}

void axpy(Dtype dtype, const void* x, void* y, int64_t n, double alpha) {
  dispatch_float(dtype, "axpy", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    auto X = static_cast<const scalar_t*>(x);
    auto Y = static_cast<scalar_t*>(y);
    const scalar_t al = static_cast<scalar_t>(alpha);
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) Y[i] += al * X[i];
  });
}

}  // namespace tttlm::kernels::cpu
