// Parity helpers: run an op on the CPU and on CUDA from the same inputs and compare outputs and input
// gradients with tolerance atol + rtol·|cpu| (llm.c's validate_result).
#pragma once

#include <functional>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "helpers.h"

namespace tttlm::test {

struct Tol {
  double atol, rtol;
};
inline Tol tol_for(Dtype d) { return d == Dtype::bf16 ? Tol{5e-2, 3e-2} : Tol{1e-4, 1e-4}; }

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// inputs: f32 CPU tensors. On CUDA they are cast to `dtype` (f32 or bf16); the CPU runs the f32 op on the
// same (rounded) values. The output gradient is a fixed random tensor. Checks output and every input grad.
inline void require_parity(const OpFn& fn, const std::vector<Tensor>& inputs, Dtype dtype, Tol tol,
                           const std::vector<bool>& differentiable = {}) {
  std::vector<Tensor> cpu_in, gpu_in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    bool diff = dtype_is_float(t.dtype()) && (differentiable.empty() || differentiable[i]);
    Tensor rounded = dtype_is_float(t.dtype()) ? ops::cast(ops::cast(t, dtype), t.dtype()) : t;
    Tensor c = ops::clone(rounded);
    Tensor g = ops::to(dtype_is_float(t.dtype()) ? ops::cast(t, dtype) : t, cuda_device());
    if (diff) {
      c.set_requires_grad(true);
      g.set_requires_grad(true);
    }
    cpu_in.push_back(c);
    gpu_in.push_back(g);
  }
  Tensor yc = fn(cpu_in);
  Tensor yg = fn(gpu_in);
  Tensor dy = randn(yc.shape(), 4242);
  require_close(ops::cast(ops::to(yg, cpu_device()), Dtype::f32), yc, tol.atol, tol.rtol, "forward");
  if (!yc.requires_grad()) return;
  autograd::backward({yc}, {dy});
  autograd::backward({yg}, {ops::to(ops::cast(dy, dtype), cuda_device())});
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu_in[i].requires_grad()) continue;
    require_close(ops::cast(ops::to(gpu_in[i].grad(), cpu_device()), Dtype::f32), cpu_in[i].grad(), tol.atol,
                  tol.rtol, "grad of input " + std::to_string(i));
  }
}

}  // namespace tttlm::test
