#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "autograd/ops/softmax.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
Tol softmax_tol(Dtype dtype) { return dtype == Dtype::f64 ? Tol{1e-12, 1e-11} : tol_for(dtype); }

// Targets for `rows` positions of a vocabulary of V, every fifth one ignored (-1).
Tensor make_targets(int64_t rows, int64_t V, Dtype dtype) {
  std::vector<int64_t> t(rows);
  for (int64_t i = 0; i < rows; ++i) t[i] = i % 5 == 2 ? -1 : (i * 7919) % V;
  Tensor t64 = Tensor::from_vector(t, {rows});
  return dtype == Dtype::i64 ? t64 : ops::cast(t64, Dtype::i32);
}
}  // namespace

TEST_CASE("cuda parity: softmax and log_softmax", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  const Dtype in_dtype = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  // One warp (13), a 128-thread block (1000), a 512-thread block over a vocabulary row (33001), and
  // logits of 500 ± 30 that overflow exp without the max subtraction.
  for (const Shape& shape : {Shape{7, 13}, Shape{3, 2, 1000}, Shape{2, 33001}}) {
    INFO(shape_str(shape));
    Tensor x =
        ops::affine(randn(shape, 1, in_dtype), shape.back() == 13 ? 30.0 : 2.0, shape.back() == 13 ? 500.0 : 0.0);
    require_parity([](auto& v) { return ops::softmax(v[0]); }, {x}, dtype, softmax_tol(dtype));
    require_parity([](auto& v) { return ops::log_softmax(v[0]); }, {x}, dtype, softmax_tol(dtype));
  }
}

TEST_CASE("cuda parity: softmax of rows with -inf entries (masks)", "[cuda]") {
  std::vector<float> v = randn({4, 37}, 2).to_vector<float>();
  for (int64_t c = 20; c < 37; ++c) v[37 + c] = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < 36; ++c) v[2 * 37 + c] = -std::numeric_limits<float>::infinity();
  require_parity([](auto& in) { return ops::softmax(in[0]); }, {Tensor::from_vector(v, {4, 37})}, Dtype::f32,
                 tol_for(Dtype::f32));
}

TEST_CASE("cuda parity: cross_entropy", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  auto target_dtype = GENERATE(Dtype::i32, Dtype::i64);
  const Dtype in_dtype = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  for (auto [rows, V] : {std::pair<int64_t, int64_t>{11, 13}, {5, 1000}, {6, 32000}}) {
    INFO(rows << " x " << V);
    Tensor logits = ops::affine(randn({rows, V}, 3, in_dtype), 3.0, 100.0);
    Tensor t = make_targets(rows, V, target_dtype);
    require_parity([](auto& v) { return ops::cross_entropy(v[0], v[1]); }, {logits, t}, dtype, softmax_tol(dtype));
    require_parity([](auto& v) { return ops::cross_entropy_reference(v[0], v[1]); }, {logits, t}, dtype,
                   softmax_tol(dtype));
  }
}

TEST_CASE("cuda: cross_entropy gives NaN for a target outside [-1, V)", "[cuda]") {
  Tensor logits = ops::to(randn({3, 7}, 4), cuda_device());
  Tensor t = ops::to(Tensor::from_vector(std::vector<int64_t>{1, 7, -1}, {3}), cuda_device());
  auto loss = ops::cross_entropy(logits, t).to_vector<double>();
  REQUIRE(std::isfinite(loss[0]));
  REQUIRE(std::isnan(loss[1]));
  REQUIRE(loss[2] == 0.0);
}

TEST_CASE("cuda: a NaN logit makes its row NaN in softmax, log_softmax and cross_entropy", "[cuda]") {
  // Rows of 13 (one warp, some lanes see one element), 1000 and 32000 (many threads); the NaN is the first
  // element a thread sees, or comes after finite ones.
  for (int64_t V : {13, 1000, 32000})
    for (int64_t at : {int64_t(0), int64_t(1), V / 2, V - 1}) {
      INFO("V " << V << " NaN at " << at);
      Tensor host = randn({3, V}, 91);
      static_cast<float*>(host.data_ptr())[V + at] = std::numeric_limits<float>::quiet_NaN();
      Tensor x = ops::to(host, cuda_device());
      Tensor t = ops::to(Tensor::from_vector(std::vector<int64_t>{1, 2, 3}, {3}), cuda_device());
      auto row_nan = [&](const Tensor& y, const char* what) {
        INFO(what);
        auto v = ops::to(y, cpu_device()).to_vector<double>();
        const int64_t cols = y.numel() / 3;
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t c = 0; c < cols; ++c) REQUIRE(std::isnan(v[r * cols + c]) == (r == 1));
      };
      row_nan(ops::softmax(x), "softmax");
      row_nan(ops::log_softmax(x), "log_softmax");
      row_nan(ops::cross_entropy(x, t), "cross_entropy");
      Tensor xg = ops::clone(x).set_requires_grad(true);
      autograd::backward({ops::sum(ops::cross_entropy(xg, t))});
      row_nan(xg.grad(), "cross_entropy backward");
    }
}
