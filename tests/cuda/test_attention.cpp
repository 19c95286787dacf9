// CUDA causal attention against the CPU kernel: forward and the three input gradients, over sequence
// lengths around the tile sizes (64 rows; 32 for f64 or wide heads), head dims that pick either tile, and
// strided (B, T, H, D) views.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/ops/attention.h"
#include "autograd/ops/view.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
Tol attention_tol(Dtype d) { return d == Dtype::bf16 ? Tol{1e-1, 5e-2} : Tol{2e-4, 2e-4}; }
}  // namespace

TEST_CASE("cuda parity: causal_attention", "[cuda][attention]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  const int64_t T = GENERATE(1, 5, 31, 33, 64, 65, 130, 200);
  const int64_t D = GENERATE(4, 8, 64, 128);
  INFO("T = " << T << ", D = " << D << ", " << dtype_name(dtype));
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  require_parity([scale](auto& in) { return ops::causal_attention(in[0], in[1], in[2], scale); },
                 {randn({2, 3, T, D}, 1), randn({2, 3, T, D}, 2), randn({2, 3, T, D}, 3)}, dtype, attention_tol(dtype));
}

TEST_CASE("cuda parity: causal_attention on strided views and a long sequence", "[cuda][attention]") {
  const Dtype dtype = GENERATE(Dtype::f32, Dtype::bf16);
  auto fn = [](auto& in) {
    // (B, T, H, D) → (B, H, T, D) views, as a Transformer layer produces them.
    return ops::causal_attention(ops::permute(in[0], {0, 2, 1, 3}), ops::permute(in[1], {0, 2, 1, 3}),
                                 ops::permute(in[2], {0, 2, 1, 3}), 0.125);
  };
  require_parity(fn, {randn({2, 77, 3, 64}, 4), randn({2, 77, 3, 64}, 5), randn({2, 77, 3, 64}, 6)}, dtype,
                 attention_tol(dtype));
  require_parity([](auto& in) { return ops::causal_attention(in[0], in[1], in[2], 0.125); },
                 {randn({1, 2, 1000, 64}, 7), randn({1, 2, 1000, 64}, 8), randn({1, 2, 1000, 64}, 9)}, dtype,
                 attention_tol(dtype));
}
