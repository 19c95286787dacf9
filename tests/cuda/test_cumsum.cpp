#include <catch2/catch.hpp>

#include "autograd/ops/cumsum.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: cumsum along each dimension", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor x = randn({5, 67, 3}, 1);
  Tol tol = tol_for(dtype);
  tol.atol *= 4;  // running sums of up to 67 terms
  for (int64_t dim : {0, 1, 2}) require_parity([dim](auto& in) { return ops::cumsum(in[0], dim); }, {x}, dtype, tol);
}
