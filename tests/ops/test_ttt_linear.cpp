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

struct Shape4 {
  int64_t T, D, mini_batch;
};

}  // namespace

TEST_CASE("ttt_linear forward matches the primal form and the independent reference", "[ops][ttt]") {
  auto shape = GENERATE(Shape4{16, 4, 4},
                        Shape4{21, 5, 8},
                        Shape4{48, 7, 16},
                        Shape4{21, 8, 16},
                        Shape4{13, 5, 4},
                        Shape4{48, 4, 8});
  auto flags = GENERATE(
      std::pair{true, true}, std::pair{false, true}, std::pair{true, false}, std::pair{false, false});
  TttCase c;
  c.T = shape.T;
  c.D = shape.D;
  c.mini_batch = shape.mini_batch;
  c.seed = static_cast<uint64_t>(shape.T * 100 + shape.D);
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = shape.mini_batch;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  INFO("T " << shape.T << " D " << shape.D << " mini_batch " << shape.mini_batch << " layer_norm "
            << o.layer_norm << " residual " << o.residual);
  Tensor dual = call_ttt(ttt_args(in, false), o, false);
  require_close(dual, call_ttt(ttt_args(in, false), o, false, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_close(dual, ref_ttt(in, o, false), 1e-10, 1e-10, "dual vs test reference");
}

TEST_CASE("ttt_linear forward takes non-contiguous views, and f32 agrees with f64", "[ops][ttt]") {
  TttCase c;
  c.T = 21;
  c.D = 5;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  Tensor want = call_ttt(ttt_args(in, false), o, false);
  // xq as the (B, H, T, D) view of a (B, T, H, D) tensor, as a layer's head split produces it.
  TttInputs nc = in;
  nc.xq = ops::permute(ops::contiguous(ops::permute(in.xq, {0, 2, 1, 3})), {0, 2, 1, 3});
  REQUIRE_FALSE(nc.xq.is_contiguous());
  require_close(call_ttt(ttt_args(nc, false), o, false), want, 0, 0, "non-contiguous xq");
  std::vector<Tensor> f32;
  for (const Tensor& a : ttt_args(in, false)) f32.push_back(ops::cast(a, Dtype::f32));
  Tensor got = call_ttt(f32, o, false);
  REQUIRE(got.dtype() == Dtype::f32);
  require_close(got, want, 2e-5, 2e-5, "f32 vs f64");
}

TEST_CASE("ttt_linear forward equals causal linear attention with the inner bias as a constant feature",
          "[ops][ttt]") {
  // W0 = 0, b0 = 0, no LN, no residual, one mini-batch: G = −V, so Z̄ = (eta ⊙ tril(Q·Kᵀ + 1))·V, i.e.
  // z_t = Σ_{s<=t} eta_ts·(q_t·k_s + 1)·v_s: the paper's linear attention, with the bias b acting as one more
  // key/query feature fixed at 1.
  TttCase c;
  c.T = 13;
  c.D = 5;
  c.mini_batch = 13;
  TttInputs in = make_ttt_inputs(c);
  in.w0 = Tensor::zeros({c.H, c.D, c.D}, Dtype::f64);
  in.b0 = Tensor::zeros({c.H, c.D}, Dtype::f64);
  ops::TttOptions o;
  o.mini_batch = c.T;
  o.layer_norm = false;
  o.residual = false;
  Tensor got = call_ttt(ttt_args(in, false), o, false);
  std::vector<double> want(got.numel());
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t t = 0; t < c.T; ++t)
        for (int64_t s = 0; s <= t; ++s) {
          double qk = 1, eta = in.token_eta.at({t}) * in.ttt_lr.at({b, h, s});
          for (int64_t x = 0; x < c.D; ++x) qk += in.xq.at({b, h, t, x}) * in.xk.at({b, h, s, x});
          for (int64_t x = 0; x < c.D; ++x)
            want[((b * c.H + h) * c.T + t) * c.D + x] += eta * qk * in.xv.at({b, h, s, x});
        }
  require_close(got, Tensor::from_vector(want, got.shape()), 1e-12, 1e-12);
}

TEST_CASE("ttt_linear forward by decode steps matches the sequence op token by token", "[ops][ttt]") {
  auto flags = GENERATE(std::pair{true, true}, std::pair{false, false});
  TttCase c;
  c.T = 21;
  c.D = 5;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  Tensor want = call_ttt(ttt_args(in, false), o, false);
  ops::TttLinearDecodeState st = ops::ttt_linear_decode_init(in.w0, in.b0, c.B);
  for (int64_t t = 0; t < c.T; ++t) {
    Tensor z = ops::ttt_linear_decode_step(st,
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

TEST_CASE("ttt_linear backward matches central differences of the primal form", "[ops][ttt]") {
  TttCase c;
  c.T = 21;
  c.D = 5;
  ops::TttOptions o;
  o.mini_batch = 8;
  o.checkpoint_every = 2;
  require_primal_spot_check(ttt_args(make_ttt_inputs(c), false), o, false);
}

TEST_CASE("ttt_linear at widths that fill whole vectors: forward and backward vs the primal form, f32 vs f64",
          "[ops][ttt]") {
  // D = 40 and a short last mini-batch reach the CPU kernels' vector tiles, register transposes and both
  // ways of A·Bᵀ (kernels/cpu/ttt_mm.h) as well as their edge loops; the small widths above only the edges.
  TttCase c;
  c.B = 1;
  c.T = 45;
  c.D = 40;
  c.mini_batch = 16;
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(c), false);
  ops::TttOptions o;
  o.mini_batch = 16;
  o.checkpoint_every = 2;
  require_close(call_ttt(args, o, false), call_ttt(args, o, false, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_primal_spot_check(args, o, false);
  require_f32_matches_f64(args, o, false);
}

TEST_CASE("ttt_linear backward is bitwise identical for every checkpoint_every and thread count",
          "[ops][ttt]") {
  TttCase c;
  c.T = 48;
  c.D = 5;
  c.mini_batch = 4;
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(c), false);
  ops::TttOptions o;
  o.mini_batch = 4;
  o.checkpoint_every = 1;
  const std::vector<Tensor> want = ttt_grads(args, o, false);
  for (int64_t k : {2, 3, 5, 1000}) {
    o.checkpoint_every = k;
    std::vector<Tensor> got = ttt_grads(args, o, false);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("checkpoint_every " << k << ", argument " << i);
      REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
    }
  }
  const int threads = omp_get_max_threads();
  omp_set_num_threads(3);
  std::vector<Tensor> got = ttt_grads(args, o, false);
  omp_set_num_threads(threads);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
}

TEST_CASE("ttt_linear gradcheck", "[ops][ttt]") {
  SECTION("layer norm and residual, short last mini-batch") {
    TttCase c;
    c.T = 21;
    c.D = 4;
    ops::TttOptions o;
    o.mini_batch = 8;
    o.checkpoint_every = 2;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(c), false)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, false); }, args);
  }
  SECTION("no layer norm, no residual") {
    TttCase c;
    c.T = 13;
    c.D = 5;
    c.mini_batch = 4;
    ops::TttOptions o;
    o.mini_batch = 4;
    o.checkpoint_every = 3;
    o.layer_norm = false;
    o.residual = false;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(c), false)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, false); }, args);
  }
}

TEST_CASE("ttt_linear errors name the op and the shapes", "[ops][ttt]") {
  TttCase c;
  c.T = 16;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  auto call = [&](const TttInputs& x) { return call_ttt(ttt_args(x, false), o, false); };
  TttInputs bad = in;
  bad.w0 = Tensor::zeros({2, 4, 5}, Dtype::f64);
  REQUIRE_THROWS_WITH(call(bad),
                      Catch::Contains("[ttt_linear]") &&
                          Catch::Contains("w0 must have shape (H, D, D) = (2, 4, 4)") &&
                          Catch::Contains("got (2, 4, 5)") && Catch::Contains("xq: f64 (2, 2, 16, 4)"));
  bad = in;
  bad.xk = Tensor::zeros({2, 2, 15, 4}, Dtype::f64);
  REQUIRE_THROWS_WITH(
      call(bad),
      Catch::Contains("[ttt_linear]") && Catch::Contains("xk") && Catch::Contains("(2, 2, 15, 4)"));
  bad = in;
  bad.token_eta = Tensor::zeros({16}, Dtype::f64);
  REQUIRE_THROWS_WITH(call(bad), Catch::Contains("token_eta must have shape (mini_batch) = (8)"));
  bad = in;
  bad.ttt_lr = ops::cast(in.ttt_lr, Dtype::f32);
  REQUIRE_THROWS_WITH(call(bad),
                      Catch::Contains("[ttt_linear] operands must have one dtype") &&
                          Catch::Contains("ttt_lr: f32 (2, 2, 16)"));
  o.mini_batch = 0;
  REQUIRE_THROWS_WITH(call(in), Catch::Contains("options.mini_batch"));
  o.mini_batch = 8;
  std::vector<Tensor> args = ttt_args(in, false);
  args[5] = req(ops::clone(args[5]));
  REQUIRE_THROWS_WITH(call_ttt(args, o, false, true), Catch::Contains("[ttt_linear_primal] has no backward"));
  ops::TttLinearDecodeState st = ops::ttt_linear_decode_init(in.w0, in.b0, 2);
  REQUIRE_THROWS_WITH(ops::ttt_linear_decode_step(
                          st, in.xq, in.xk, in.xv, in.token_eta, in.ttt_lr, in.ln_weight, in.ln_bias, o),
                      Catch::Contains("[ttt_linear_decode_step] xq must have shape (B, H, D) = (2, 2, 4)") &&
                          Catch::Contains("got (2, 2, 16, 4)"));
}
