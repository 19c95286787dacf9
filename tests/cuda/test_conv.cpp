#include <catch2/catch.hpp>

#include "autograd/ops/conv.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: causal_conv1d forward and backward", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  // The second shape has 3 * 1100 rows: several row chunks in the weight gradient.
  for (Shape s : {Shape{2, 7, 5}, Shape{3, 1100, 13}, Shape{1, 3, 67}}) {
    const int64_t K = s[1] == 3 ? 5 : 4;
    Tensor x = randn(s, 1), w = randn({K, s[2]}, 2), b = randn({s[2]}, 3);
    Tol tol = tol_for(dtype);
    if (s[1] > 1000) tol.atol *= 10;  // dweight sums 3300 products in f32 (bf16 inputs)
    require_parity([](auto& in) { return ops::causal_conv1d(in[0], in[1], in[2]); }, {x, w, b}, dtype, tol);
  }
}

TEST_CASE("cuda: causal_conv1d weight gradient repeats bit for bit", "[cuda]") {
  Tensor x = ops::to(randn({4, 700, 33}, 4), cuda_device());
  Tensor w = req(ops::to(randn({4, 33}, 5), cuda_device()));
  Tensor b = req(ops::to(randn({33}, 6), cuda_device()));
  Tensor dy = ops::to(randn({4, 700, 33}, 7), cuda_device());
  autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
  auto dw = ops::to(w.grad(), cpu_device()).to_vector<float>();
  auto db = ops::to(b.grad(), cpu_device()).to_vector<float>();
  w.set_grad(Tensor());
  b.set_grad(Tensor());
  autograd::backward({ops::causal_conv1d(x, w, b)}, {dy});
  REQUIRE(ops::to(w.grad(), cpu_device()).to_vector<float>() == dw);
  REQUIRE(ops::to(b.grad(), cpu_device()).to_vector<float>() == db);
}
