#include <catch2/catch.hpp>

#include "autograd/ops/rope.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: rope with absolute and modulo positions", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  Tensor x = randn({2, 3, 13, 64}, 1);
  std::vector<int64_t> absolute(13), modulo(13);
  for (int64_t t = 0; t < 13; ++t) {
    absolute[t] = 1000 + t;
    modulo[t] = t % 4;
  }
  Tensor p64 = Tensor::from_vector(absolute, {13});
  Tensor p32 = Tensor::from_vector(std::vector<int32_t>(modulo.begin(), modulo.end()), {13});
  for (const Tensor& pos : {p64, p32})
    require_parity([pos](auto& in) { return ops::rope(in[0], ops::to(pos, in[0].device()), 10000.0); }, {x}, dtype,
                   tol_for(dtype));
}
