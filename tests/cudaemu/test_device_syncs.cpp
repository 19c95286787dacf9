// Host code that drives the CUDA backend must not sync per tensor: counted with the emulator's tally of
// device-to-host copies (each one a device sync on a GPU).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/copy.h"
#include "cudaemu/memory.h"
#include "helpers.h"
#include "train/optimizer.h"
#include "train/run_config.h"

using namespace tttlm;

TEST_CASE("grad-norm clipping reads one scalar from the device per step, not one per parameter",
          "[cudaemu][optimizer]") {
  std::vector<layers::Parameter> params(12);
  std::vector<layers::Parameter*> ptrs;
  double expect = 0;
  for (int i = 0; i < 12; ++i) {
    Tensor v = test::randn({3 + i, 5}, 100 + i);
    Tensor g = test::randn({3 + i, 5}, 200 + i);
    for (double x : g.to_vector<double>()) expect += x * x;
    params[i].name = std::to_string(i);
    params[i].shape = v.shape();
    params[i].value = ops::to(v, cuda_device());
    params[i].value.set_requires_grad(true);
    params[i].value.set_grad(ops::to(g, cuda_device()));
    ptrs.push_back(&params[i]);
  }
  train::AdamW opt(ptrs, train::OptimizerConfig{});
  const size_t before = cudaemu::device_to_host_copies();
  const double norm = opt.clip_grad_norm(1.0);
  CHECK(cudaemu::device_to_host_copies() - before == 1);
  CHECK(norm == Approx(std::sqrt(expect)).epsilon(1e-6));
  // The clipped gradients have norm 1.
  double after = 0;
  for (auto* p : ptrs)
    for (double x : ops::to(p->value.grad(), cpu_device()).to_vector<double>()) after += x * x;
  CHECK(std::sqrt(after) == Approx(1.0).epsilon(1e-5));
}
