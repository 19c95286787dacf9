#include <catch2/catch.hpp>

#include "autograd/ops/norm.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
// bf16: dy is rounded to bf16 on CUDA only, and dweight/dbias sum that rounding over every row, so their
// absolute error grows like sqrt(rows); 0.15 covers 301 rows with room (the values themselves are ~10).
// f32 with a mean of 300: x − mean keeps ~1e-5 of absolute error from x's own rounding (ulp(300) = 3e-5),
// so the column sums of dy·xhat differ between CPU and GPU by a few 1e-4 of the column scale; judged
// against the tensor's largest element there (the f64 case holds both sides to 1e-11).
Tol norm_tol(Dtype dtype, double offset) {
  return dtype == Dtype::f64    ? Tol{1e-11, 1e-11}
         : dtype == Dtype::bf16 ? Tol{1.5e-1, 3e-2}
                                : Tol{1e-4, 1e-4, offset > 0 ? 2e-4 : 0.0};
}
}  // namespace

TEST_CASE("cuda parity: rms_norm and layer_norm", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  const Dtype in_dtype = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  // Widths below, at and above a warp, rows that are not a multiple of a block, 301 rows = 19 chunks of
  // the parameter-gradient reduction, and a mean of 300 (a one-pass variance in f32 would lose it).
  for (auto [shape, offset] :
       {std::pair<Shape, double>{{5, 7}, 0.0}, {{3, 11, 32}, 0.0}, {{301, 67}, 0.0}, {{13, 129}, 300.0}}) {
    INFO(shape_str(shape) << " offset " << offset);
    const int64_t C = shape.back();
    Tensor x = ops::add_scalar(randn(shape, 1, in_dtype), offset);
    Tensor w = randn({C}, 2, in_dtype), b = randn({C}, 3, in_dtype);
    require_parity([](auto& v) { return ops::rms_norm(v[0], v[1], 1e-6); }, {x, w}, dtype, norm_tol(dtype, offset));
    require_parity([](auto& v) { return ops::layer_norm(v[0], v[1], v[2], 1e-6); }, {x, w, b}, dtype,
                   norm_tol(dtype, offset));
  }
}

TEST_CASE("cuda: norm parameter gradients are bitwise reproducible", "[cuda]") {
  Tensor x = ops::to(randn({1201, 96}, 4), cuda_device()), dy = ops::to(randn({1201, 96}, 5), cuda_device());
  Tensor w0 = ops::to(randn({96}, 6), cuda_device()), b0 = ops::to(randn({96}, 7), cuda_device());
  auto grads = [&] {
    Tensor w = ops::clone(w0).set_requires_grad(true), b = ops::clone(b0).set_requires_grad(true);
    autograd::backward({ops::layer_norm(x, w, b, 1e-6)}, {dy});
    return std::pair{w.grad().to_vector<float>(), b.grad().to_vector<float>()};
  };
  auto first = grads();
  REQUIRE(grads() == first);
  REQUIRE(grads() == first);
}
