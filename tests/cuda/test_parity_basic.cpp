#include <catch2/catch.hpp>

#include "autograd/ops/concat.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/view.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: elementwise", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor a = randn({5, 7, 3}, 1), b = randu({7, 1}, 2, 0.5, 2.0);
  for (auto op : {ops::add, ops::sub, ops::mul, ops::div})
    require_parity([op](auto& in) { return op(in[0], in[1]); }, {a, b}, dtype, tol_for(dtype));
  require_parity([](auto& in) { return ops::affine(in[0], 1.5, -0.5); }, {a}, dtype, tol_for(dtype));
}

TEST_CASE("cuda parity: in-place add_ (axpy) and scale_", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  Tensor y = ops::cast(randn({4, 33}, 31), dtype), x = ops::cast(randn({4, 33}, 32), dtype);
  Tensor yg = ops::to(y, cuda_device()), xg = ops::to(x, cuda_device());
  // The CPU computes bf16 cases in f32 from the same rounded values (its axpy takes f32 and f64).
  const Dtype cpu_dtype = dtype == Dtype::bf16 ? Dtype::f32 : dtype;
  Tensor yc = ops::clone(ops::cast(y, cpu_dtype));
  ops::add_(yc, ops::cast(x, cpu_dtype), 0.75);
  ops::add_(yg, xg, 0.75);
  ops::scale_(yc, -1.5);
  ops::scale_(yg, -1.5);
  const Tol t = dtype == Dtype::f64 ? Tol{1e-15, 1e-15} : tol_for(dtype);
  require_close(ops::cast(ops::to(yg, cpu_device()), Dtype::f64), ops::cast(yc, Dtype::f64), t.atol, t.rtol, "y");
}

TEST_CASE("cuda parity: reductions", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor x = randn({11, 13, 5}, 3);
  require_parity([](auto& in) { return ops::sum(in[0], {0, 2}); }, {x}, dtype, tol_for(dtype));
  require_parity([](auto& in) { return ops::mean(in[0], {1}, true); }, {x}, dtype, tol_for(dtype));
  require_parity([](auto& in) { return ops::max(in[0], 1); }, {x}, dtype, tol_for(dtype));
}

TEST_CASE("cuda parity: matmul in every transpose combination", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tol tol = dtype == Dtype::bf16 ? Tol{1e-1, 3e-2} : Tol{1e-4, 1e-4};
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = randn(ta ? Shape{3, 64, 16} : Shape{3, 16, 64}, 4);
      Tensor b = randn(tb ? Shape{3, 48, 64} : Shape{3, 64, 48}, 5);
      require_parity(
          [ta, tb](auto& in) {
            Tensor x = ta ? ops::transpose(in[0], 1, 2) : in[0];
            Tensor y = tb ? ops::transpose(in[1], 1, 2) : in[1];
            return ops::matmul(x, y);
          },
          {a, b}, dtype, tol);
    }
  require_parity([](auto& in) { return ops::linear(in[0], in[1]); }, {randn({2, 9, 32}, 6), randn({32, 24}, 7)}, dtype,
                 tol);
}

TEST_CASE("cuda parity: matmul on offset views and on size-1 batch dims", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tol tol = dtype == Dtype::bf16 ? Tol{1e-1, 3e-2} : Tol{1e-4, 1e-4};
  // Starting one element in: the operand is only 4 (f32) or 2 (bf16) bytes aligned; then aligned again,
  // which must not reuse an algorithm chosen for the misaligned one (or the other way round).
  for (int64_t start : {1, 0, 1}) {
    require_parity(
        [start](auto& in) { return ops::matmul(ops::narrow(in[0], 2, start, 16), ops::narrow(in[1], 2, start, 8)); },
        {randn({3, 8, 17}, 21), randn({3, 16, 9}, 22)}, dtype, tol);
  }
  // A narrow of length 1 along dim 1 of (2, 3, 4, 5): the size-1 batch dim keeps its parent's stride.
  require_parity([](auto& in) { return ops::matmul(ops::narrow(in[0], 1, 2, 1), ops::narrow(in[1], 1, 2, 1)); },
                 {randn({2, 3, 4, 5}, 23), randn({2, 3, 5, 6}, 24)}, dtype, tol);
}

TEST_CASE("cuda parity: views, copies and concat", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor x = randn({4, 5, 6}, 8), y = randn({4, 2, 6}, 9);
  require_parity([](auto& in) { return ops::contiguous(ops::permute(in[0], {2, 0, 1})); }, {x}, dtype, tol_for(dtype));
  require_parity([](auto& in) { return ops::concat({in[0], in[1]}, 1); }, {x, y}, dtype, tol_for(dtype));
  require_parity([](auto& in) { return ops::pad_dim(ops::narrow(in[0], 2, 1, 3), 0, 1, 2); }, {x}, dtype,
                 tol_for(dtype));
}
