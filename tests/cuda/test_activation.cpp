#include <catch2/catch.hpp>

#include "autograd/ops/activation.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
using kernels::Activation;
const Activation kAll[] = {Activation::exp,       Activation::log,        Activation::sigmoid,  Activation::silu,
                           Activation::gelu_tanh, Activation::gelu_exact, Activation::softplus, Activation::tanh,
                           Activation::square,    Activation::relu};
}  // namespace

TEST_CASE("cuda parity: activations", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  // f64 runs both sides in f64 and must agree to rounding; f32 and bf16 use the suite's tolerances.
  const Dtype in_dtype = dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32;
  const Tol tol = dtype == Dtype::f64 ? Tol{1e-12, 1e-12} : tol_for(dtype);
  // 5·7·13 elements, and inputs past the softplus threshold (±25) and in the saturated tails.
  Tensor x = ops::affine(randn({5, 7, 13}, 1, in_dtype), 6.0, 0.0);
  Tensor positive = randu({5, 7, 13}, 2, 0.2, 5.0, in_dtype);
  for (Activation act : kAll) {
    INFO(kernels::activation_name(act));
    Tensor in = act == Activation::log ? positive : act == Activation::exp ? ops::scale(x, 0.5) : x;
    require_parity([act](auto& v) { return ops::activation(v[0], act); }, {in}, dtype, tol);
  }
}
