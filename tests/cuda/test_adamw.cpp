#include <catch2/catch.hpp>

#include "autograd/ops/adamw.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("cuda parity: adamw_update over several steps", "[cuda]") {
  const Shape s{67, 13};
  Tensor pc = randn(s, 1), mc = Tensor::zeros(s, Dtype::f32), vc = Tensor::zeros(s, Dtype::f32);
  Tensor pg = ops::to(pc, cuda_device()), mg = ops::to(mc, cuda_device()), vg = ops::to(vc, cuda_device());
  ops::AdamWHyper h;
  for (int64_t t = 1; t <= 5; ++t) {
    h.lr = 1e-2 * t;
    Tensor g = randn(s, 10 + t, Dtype::f32, 0.3);
    ops::adamw_update(pc, g, mc, vc, h, t);
    ops::adamw_update(pg, ops::to(g, cuda_device()), mg, vg, h, t);
    INFO("step " << t);
    require_close(ops::to(pg, cpu_device()), pc, 1e-6, 1e-6, "param");
    require_close(ops::to(mg, cpu_device()), mc, 1e-7, 1e-6, "m");
    require_close(ops::to(vg, cpu_device()), vc, 1e-9, 1e-6, "v");
  }
}
