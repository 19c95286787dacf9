// Parity helpers: run an op on the CPU and on CUDA from the same inputs and compare outputs and input
// gradients with tolerance atol + rtol·|cpu| (llm.c's validate_result).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "helpers.h"

namespace tttlm::test {

// An element passes when |got − want| <= atol + rtol·|want| + scaled·max|want| (the last term, off by
// default, judges errors against the whole tensor's scale, for ill-conditioned outputs where CPU and GPU
// summation orders legitimately differ by eps·cond in elements far below the tensor's largest).
struct Tol {
  double atol, rtol, scaled = 0;
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
  Tensor dy = randn(yc.shape(), 4242, yc.dtype());
  auto atol_for = [&](const Tensor& want) {
    if (tol.scaled == 0) return tol.atol;
    double m = 0;
    for (double v : want.to_vector<double>()) m = std::max(m, std::abs(v));
    return tol.atol + tol.scaled * m;
  };
  require_close(ops::cast(ops::to(yg, cpu_device()), yc.dtype()), yc, atol_for(yc), tol.rtol, "forward");
  if (!yc.requires_grad()) return;
  autograd::backward({yc}, {dy});
  autograd::backward({yg}, {ops::to(ops::cast(dy, dtype), cuda_device())});
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu_in[i].requires_grad()) continue;
    require_close(ops::cast(ops::to(gpu_in[i].grad(), cpu_device()), cpu_in[i].grad().dtype()), cpu_in[i].grad(),
                  atol_for(cpu_in[i].grad()), tol.rtol, "grad of input " + std::to_string(i));
  }
}

}  // namespace tttlm::test
