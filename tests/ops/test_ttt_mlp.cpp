#include <omp.h>

#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/ttt.h"
#include "autograd/ops/view.h"
#include "helpers.h"
#include "ttt_reference.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

struct MlpShape {
  int64_t T, D, I, mini_batch;
};

}  // namespace

TEST_CASE("ttt_mlp forward matches the primal form and the independent reference", "[ops][ttt]") {
  auto shape = GENERATE(MlpShape{16, 4, 16, 4},
                        MlpShape{21, 5, 7, 8},
                        MlpShape{48, 4, 16, 16},
                        MlpShape{21, 6, 11, 16},
                        MlpShape{13, 3, 12, 4});
  auto flags = GENERATE(
      std::pair{true, true}, std::pair{false, true}, std::pair{true, false}, std::pair{false, false});
  TttCase c;
  c.T = shape.T;
  c.D = shape.D;
  c.I = shape.I;
  c.mini_batch = shape.mini_batch;
  c.seed = static_cast<uint64_t>(shape.T * 100 + shape.I);
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = shape.mini_batch;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  INFO("T " << shape.T << " D " << shape.D << " I " << shape.I << " mini_batch " << shape.mini_batch
            << " layer_norm " << o.layer_norm << " residual " << o.residual);
  Tensor dual = call_ttt(ttt_args(in, true), o, true);
  require_close(dual, call_ttt(ttt_args(in, true), o, true, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_close(dual, ref_ttt(in, o, true), 1e-10, 1e-10, "dual vs test reference");
}

TEST_CASE("ttt_mlp forward takes non-contiguous views, and f32 agrees with f64", "[ops][ttt]") {
  TttCase c;
  c.T = 21;
  c.D = 5;
  c.I = 20;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  Tensor want = call_ttt(ttt_args(in, true), o, true);
  TttInputs nc = in;
  nc.xv = ops::permute(ops::contiguous(ops::permute(in.xv, {0, 2, 1, 3})), {0, 2, 1, 3});
  nc.w2 = ops::transpose(ops::contiguous(ops::transpose(in.w2, 1, 2)), 1, 2);
  REQUIRE_FALSE(nc.xv.is_contiguous());
  REQUIRE_FALSE(nc.w2.is_contiguous());
  require_close(call_ttt(ttt_args(nc, true), o, true), want, 0, 0, "non-contiguous xv and w2");
  std::vector<Tensor> f32;
  for (const Tensor& a : ttt_args(in, true)) f32.push_back(ops::cast(a, Dtype::f32));
  require_close(call_ttt(f32, o, true), want, 2e-5, 2e-5, "f32 vs f64");
}

TEST_CASE("ttt_mlp forward by decode steps matches the sequence op token by token", "[ops][ttt]") {
  auto flags = GENERATE(std::pair{true, true}, std::pair{false, false});
  TttCase c;
  c.T = 21;
  c.D = 5;
  c.I = 9;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  Tensor want = call_ttt(ttt_args(in, true), o, true);
  ops::TttMlpDecodeState st = ops::ttt_mlp_decode_init(in.w1, in.b1, in.w2, in.b2, c.B);
  for (int64_t t = 0; t < c.T; ++t) {
    Tensor z = ops::ttt_mlp_decode_step(st,
                                        ops::select(in.xq, 2, t),
                                        ops::select(in.xk, 2, t),
                                        ops::select(in.xv, 2, t),
                                        in.token_eta,
                                        ops::select(in.ttt_lr, 2, t),
                                        in.ln_weight,
                                        in.ln_bias,
                                        o);
    require_close(z, ops::contiguous(ops::select(want, 2, t)), 1e-10, 1e-10, "token " + std::to_string(t));
  }
  REQUIRE(st.position == c.T);
}

TEST_CASE("ttt_mlp backward matches central differences of the primal form", "[ops][ttt]") {
  TttCase c;
  c.T = 21;
  c.D = 5;
  c.I = 12;
  ops::TttOptions o;
  o.mini_batch = 8;
  o.checkpoint_every = 2;
  require_primal_spot_check(ttt_args(make_ttt_inputs(c), true), o, true);
}

TEST_CASE("ttt_mlp at widths that fill whole vectors: forward and backward vs the primal form, f32 vs f64",
          "[ops][ttt]") {
  // D = 24, I = 64 and a short last mini-batch reach the CPU kernels' vector tiles, register transposes and
  // both ways of A·Bᵀ (kernels/cpu/ttt_mm.h) as well as their edge loops; the small widths above only edges.
  TttCase c;
  c.B = 1;
  c.T = 45;
  c.D = 24;
  c.I = 64;
  c.mini_batch = 16;
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(c), true);
  ops::TttOptions o;
  o.mini_batch = 16;
  o.checkpoint_every = 2;
  require_close(call_ttt(args, o, true), call_ttt(args, o, true, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_primal_spot_check(args, o, true);
  require_f32_matches_f64(args, o, true);
}

TEST_CASE("ttt_mlp backward is bitwise identical for every checkpoint_every and thread count", "[ops][ttt]") {
  TttCase c;
  c.T = 48;
  c.D = 4;
  c.I = 16;
  c.mini_batch = 4;
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(c), true);
  ops::TttOptions o;
  o.mini_batch = 4;
  o.checkpoint_every = 1;
  const std::vector<Tensor> want = ttt_grads(args, o, true);
  for (int64_t k : {2, 3, 5, 1000}) {
    o.checkpoint_every = k;
    std::vector<Tensor> got = ttt_grads(args, o, true);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("checkpoint_every " << k << ", argument " << i);
      REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
    }
  }
  const int threads = omp_get_max_threads();
  omp_set_num_threads(3);
  std::vector<Tensor> got = ttt_grads(args, o, true);
  omp_set_num_threads(threads);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
}

TEST_CASE("ttt_mlp gradcheck", "[ops][ttt]") {
  SECTION("layer norm and residual, short last mini-batch") {
    TttCase c;
    c.T = 21;
    c.D = 4;
    c.I = 16;
    ops::TttOptions o;
    o.mini_batch = 8;
    o.checkpoint_every = 2;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(c), true)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, true); }, args);
  }
  SECTION("no layer norm, no residual") {
    TttCase c;
    c.T = 13;
    c.D = 3;
    c.I = 7;
    c.mini_batch = 4;
    ops::TttOptions o;
    o.mini_batch = 4;
    o.checkpoint_every = 3;
    o.layer_norm = false;
    o.residual = false;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(c), true)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, true); }, args);
  }
}

TEST_CASE("ttt_mlp errors name the op and the shapes", "[ops][ttt]") {
  TttCase c;
  c.T = 16;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  auto call = [&](const TttInputs& x) { return call_ttt(ttt_args(x, true), o, true); };
  TttInputs bad = in;
  bad.w2 = Tensor::zeros({2, 4, 8}, Dtype::f64);
  REQUIRE_THROWS_WITH(call(bad),
                      Catch::Contains("[ttt_mlp]") &&
                          Catch::Contains("w2 must have shape (H, I, D) = (2, 8, 4)") &&
                          Catch::Contains("got (2, 4, 8)") && Catch::Contains("w1: f64 (2, 4, 8)"));
  bad = in;
  bad.b1 = Tensor::zeros({2, 4}, Dtype::f64);
  REQUIRE_THROWS_WITH(call(bad), Catch::Contains("b1 must have shape (H, I) = (2, 8)"));
  bad = in;
  bad.ln_bias = Tensor::zeros({3, 4}, Dtype::f64);
  REQUIRE_THROWS_WITH(call(bad), Catch::Contains("ln_bias must have shape (H, D) = (2, 4)"));
  ops::TttMlpDecodeState st = ops::ttt_mlp_decode_init(in.w1, in.b1, in.w2, in.b2, 2);
  REQUIRE_THROWS_WITH(ops::ttt_mlp_decode_step(st,
                                               ops::select(in.xq, 2, 0),
                                               ops::select(in.xk, 2, 0),
                                               ops::select(in.xv, 2, 0),
                                               in.token_eta,
                                               in.ttt_lr,
                                               in.ln_weight,
                                               in.ln_bias,
                                               o),
                      Catch::Contains("[ttt_mlp_decode_step] ttt_lr must have shape (B, H) = (2, 2)"));
  REQUIRE_THROWS_WITH(ops::ttt_mlp_decode_init(in.w1, in.b1, in.w1, in.b2, 2),
                      Catch::Contains("[ttt_mlp_decode_init]") && Catch::Contains("w2: f64 (2, 4, 8)"));
}
