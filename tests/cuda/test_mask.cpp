#include <catch2/catch.hpp>
#include <limits>

#include "autograd/ops/mask.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: tril and masked_fill_upper", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor x = randn({3, 11, 13}, 1);
  for (int64_t d : {-2, 0, 1}) {
    require_parity([d](auto& in) { return ops::tril(in[0], d); }, {x}, dtype, tol_for(dtype));
    require_parity([d](auto& in) { return ops::masked_fill_upper(in[0], 7.5, d); }, {x}, dtype, tol_for(dtype));
  }
  // -inf survives the trip: compare positions of the infinities and the finite values.
  const double inf = std::numeric_limits<double>::infinity();
  Tensor yc = ops::masked_fill_upper(x, -inf);
  Tensor yg = ops::to(ops::masked_fill_upper(ops::to(x, cuda_device()), -inf), cpu_device());
  REQUIRE(yg.to_vector<float>() == yc.to_vector<float>());
}
