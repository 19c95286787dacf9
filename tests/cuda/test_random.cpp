#include <catch2/catch.hpp>

#include "autograd/ops/random.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
Tensor on_cpu(const Tensor& t) { return ops::to(t, cpu_device()); }
}  // namespace

TEST_CASE("cuda parity: random_uniform is bit-identical to the CPU", "[cuda]") {
  for (Dtype dtype : {Dtype::f32, Dtype::f64, Dtype::bf16}) {
    INFO(dtype_name(dtype));
    Tensor c = ops::random_uniform({1001, 7}, dtype, cpu_device(), 3, 11, -0.5, 0.5);
    Tensor g = on_cpu(ops::random_uniform({1001, 7}, dtype, cuda_device(), 3, 11, -0.5, 0.5));
    REQUIRE(g.to_vector<double>() == c.to_vector<double>());
  }
}

TEST_CASE("cuda parity: random_normal and random_trunc_normal agree with the CPU to 1e-6", "[cuda]") {
  for (Dtype dtype : {Dtype::f32, Dtype::f64}) {
    INFO(dtype_name(dtype));
    Tensor c = ops::random_normal({1001, 7}, dtype, cpu_device(), 4, 12, 0.1, 0.02);
    Tensor g = on_cpu(ops::random_normal({1001, 7}, dtype, cuda_device(), 4, 12, 0.1, 0.02));
    require_close(g, c, 1e-6, 0, "normal");
    Tensor tc = ops::random_trunc_normal({1001, 7}, dtype, cpu_device(), 5, 13, 0.5684, 2.0);
    Tensor tg = on_cpu(ops::random_trunc_normal({1001, 7}, dtype, cuda_device(), 5, 13, 0.5684, 2.0));
    require_close(tg, tc, 1e-6, 0, "trunc_normal");
  }
}
