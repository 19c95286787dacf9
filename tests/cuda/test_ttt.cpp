#include <catch2/catch.hpp>

#include "autograd/ops/ttt.h"
#include "ops/ttt_reference.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

// f64: both sides in f64, equal to 1e-10. f32 (rtol 2e-4) and bf16 (inputs and outputs rounded to bf16,
// compute in f32): CPU and GPU sum in different orders and the inner loop carries the difference along;
// without LayerNorm and residual the TTT-MLP's gradients reach 1e19 while some elements stay near 1, so
// errors are also judged against the tensor's largest element (the f64 case shows the kernels agree).
Tol ttt_tol(Dtype d) {
  return d == Dtype::bf16 ? Tol{5e-2, 3e-2, 1e-2} : d == Dtype::f64 ? Tol{1e-10, 1e-10} : Tol{2e-4, 2e-4, 1e-6};
}

void ttt_parity(const TttCase& c, const ops::TttOptions& o, ops::InnerModel model, Dtype dtype) {
  INFO((model == ops::InnerModel::mlp ? "ttt_mlp" : "ttt_linear")
       << " T " << c.T << " D " << c.D << " I " << c.I << " mini_batch " << o.mini_batch << " snapshot_every "
       << o.snapshot_every << " dtype " << dtype_name(dtype));
  require_parity([&](auto& in) { return call_ttt(in, o, model); },
                 ttt_args(make_ttt_inputs(c, dtype == Dtype::f64 ? Dtype::f64 : Dtype::f32), model), dtype,
                 ttt_tol(dtype));
}

// One test parameter per inner model: the parity sizes (B 2, H 3, T 37, D 8, mini_batch 16) with its hidden
// width, and the 125M head size. I is unused by TTT-Linear.
struct InnerCase {
  ops::InnerModel model;
  int64_t hidden;               // I of the parity case
  int64_t big_T, big_D, big_I;  // the 125M head size
};
std::vector<InnerCase> inner_cases() {
  return {{ops::InnerModel::linear, 8, 80, 64, 8}, {ops::InnerModel::mlp, 32, 48, 64, 256}};
}

}  // namespace

TEST_CASE("cuda parity: ttt forward and backward", "[cuda][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16, Dtype::f64);
  TttCase c;
  c.B = 2;
  c.H = 3;
  c.T = 37;
  c.D = 8;
  c.I = ic.hidden;
  c.mini_batch = 16;
  ops::TttOptions o;
  o.mini_batch = 16;
  o.snapshot_every = 2;
  ttt_parity(c, o, ic.model, dtype);
  o.layer_norm = false;
  o.residual = false;
  ttt_parity(c, o, ic.model, dtype);
}

TEST_CASE("cuda parity: ttt at the 125M head size", "[cuda][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  TttCase c;
  c.B = 1;
  c.H = 2;
  c.T = ic.big_T;
  c.D = ic.big_D;
  c.I = ic.big_I;
  c.mini_batch = 16;
  ops::TttOptions o;
  ttt_parity(c, o, ic.model, Dtype::f32);
}

TEST_CASE("cuda ttt backward is bitwise identical for every snapshot_every", "[cuda][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  TttCase c;
  c.T = 40;
  c.D = 8;
  c.I = 16;
  c.mini_batch = 4;
  std::vector<Tensor> args;
  for (const Tensor& a : ttt_args(make_ttt_inputs(c, Dtype::f32), ic.model)) args.push_back(ops::to(a, cuda_device()));
  ops::TttOptions o;
  o.mini_batch = 4;
  o.snapshot_every = 1;
  const std::vector<Tensor> want = ttt_grads(args, o, ic.model);
  for (int64_t k : {3, 1000}) {
    o.snapshot_every = k;
    const std::vector<Tensor> got = ttt_grads(args, o, ic.model);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("model " << static_cast<int>(ic.model) << ", snapshot_every " << k << ", argument " << i);
      REQUIRE(ops::to(got[i], cpu_device()).to_vector<float>() == ops::to(want[i], cpu_device()).to_vector<float>());
    }
  }
}
