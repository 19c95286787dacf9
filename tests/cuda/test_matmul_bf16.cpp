// ops::linear_bf16 on CUDA (cuBLASLt, bf16 inputs, f32 result) against the CPU (oneDNN), forward and both
// input gradients. Both devices multiply the same bf16 operands with f32 accumulation, so only the order
// of the f32 sums differs: the f32 tolerance applies.
#include <catch2/catch.hpp>

#include "autograd/ops/matmul.h"
#include "autograd/ops/matmul_bf16.h"
#include "autograd/ops/view.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: linear_bf16 (bf16 copy of the weight, plain and transposed as the LM head)", "[cuda]") {
  const Tol tol{1e-4, 1e-4};
  require_parity([](auto& in) { return ops::linear_bf16(in[0], in[1], ops::cast(in[1].detach(), Dtype::bf16)); },
                 {randn({2, 9, 64}, 21), randn({64, 40}, 22)}, Dtype::f32, tol);
  require_parity(
      [](auto& in) {
        Tensor w = ops::transpose(in[1], 0, 1);
        return ops::linear_bf16(in[0], w, ops::transpose(ops::cast(in[1].detach(), Dtype::bf16), 0, 1));
      },
      {randn({3, 5, 48}, 23), randn({72, 48}, 24)}, Dtype::f32, tol);
}

TEST_CASE("cuda parity: linear_bf16 on CUDA rounds its operands to bf16 (it is not the f32 product)", "[cuda]") {
  Tensor x = randn({16, 256}, 25), w = randn({256, 32}, 26);
  Tensor y = ops::to(ops::linear_bf16(ops::to(x, cuda_device()), ops::to(w, cuda_device()),
                                      ops::to(ops::cast(w, Dtype::bf16), cuda_device())),
                     cpu_device());
  require_close(y, ops::linear_bf16(x, w, ops::cast(w, Dtype::bf16)), 1e-4, 1e-4, "cuda vs cpu bf16");
  double diff = 0;
  auto a = y.to_vector<double>(), b = ops::matmul(x, w).to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i]));
  CHECK(diff > 1e-2);  // bf16 rounding of 256-term sums of N(0,1) products: typically ~0.05
}
