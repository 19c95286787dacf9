// The fused TTT op (autograd/ops/ttt.h) for every inner model, one test parameter (InnerCase) per model:
// forward against the primal form and the independent reference (ttt_reference.h), decoding token by
// token, backward against central differences of the primal form, f32 against f64, bitwise determinism
// over snapshot_every and thread counts, gradcheck, and the error messages. Each model keeps its own sizes.
#include <omp.h>

#include <catch2/catch.hpp>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/ttt.h"
#include "autograd/ops/view.h"
#include "helpers.h"
#include "ttt_reference.h"

using namespace tttlm;
using namespace tttlm::test;
using ops::InnerModel;

namespace {

TttCase sized(int64_t T, int64_t D, int64_t I, int64_t mini_batch, uint64_t seed = 1, int64_t B = 2) {
  TttCase c;
  c.B = B;
  c.T = T;
  c.D = D;
  c.I = I;
  c.mini_batch = mini_batch;
  c.seed = seed;
  return c;
}

// A wrong shape for inner parameter `param` and what the error must contain.
struct ParamError {
  int param;
  Shape shape;
  std::vector<std::string> message;
};

// One test parameter per inner model: its op name and the sizes of each test. I is unused by TTT-Linear
// (TttCase's default, as make_ttt_inputs draws every parameter whatever the model).
struct InnerCase {
  InnerModel model = InnerModel::linear;
  std::string op;
  std::vector<TttCase> forward;  // forward vs the primal form and the reference, each with its seed
  TttCase views, decode, spot, wide, bitwise, grad_ln, grad_plain;
  std::vector<ParamError> param_errors;  // on a (B 2, H 2, T 16, D 4, I 8) case
  int init_swap = 0;                     // decode_init with this parameter replaced by the first ...
  std::string init_message;              // ... names it so
};

std::vector<InnerCase> inner_cases() {
  InnerCase linear;
  linear.model = InnerModel::linear;
  linear.op = "ttt_linear";
  for (auto [T, D, m] : {std::tuple{16, 4, 4}, {21, 5, 8}, {48, 7, 16}, {21, 8, 16}, {13, 5, 4}, {48, 4, 8}})
    linear.forward.push_back(sized(T, D, 8, m, static_cast<uint64_t>(T * 100 + D)));
  linear.views = sized(21, 5, 8, 8);
  linear.decode = sized(21, 5, 8, 8);
  linear.spot = sized(21, 5, 8, 8);
  // D = 40 and a short last mini-batch reach the CPU kernels' vector tiles, register transposes and both
  // ways of A·Bᵀ (kernels/cpu/small_gemm.h) as well as their edge loops; the small widths only the edges.
  linear.wide = sized(45, 40, 8, 16, 1, 1);
  linear.bitwise = sized(48, 5, 8, 4);
  linear.grad_ln = sized(21, 4, 8, 8);
  linear.grad_plain = sized(13, 5, 8, 4);
  linear.param_errors = {
      {0,
       {2, 4, 5},
       {"[ttt_linear]", "w0 must have shape (H, D, D) = (2, 4, 4)", "got (2, 4, 5)", "xq: f64 (2, 2, 16, 4)"}}};
  linear.init_swap = 1;
  linear.init_message = "b0: f64 (2, 4, 4)";

  InnerCase mlp;
  mlp.model = InnerModel::mlp;
  mlp.op = "ttt_mlp";
  for (auto [T, D, I, m] : {std::tuple{16, 4, 16, 4}, {21, 5, 7, 8}, {48, 4, 16, 16}, {21, 6, 11, 16}, {13, 3, 12, 4}})
    mlp.forward.push_back(sized(T, D, I, m, static_cast<uint64_t>(T * 100 + I)));
  mlp.views = sized(21, 5, 20, 8);
  mlp.decode = sized(21, 5, 9, 8);
  mlp.spot = sized(21, 5, 12, 8);
  // D = 24, I = 64: as linear.wide.
  mlp.wide = sized(45, 24, 64, 16, 1, 1);
  mlp.bitwise = sized(48, 4, 16, 4);
  mlp.grad_ln = sized(21, 4, 16, 8);
  mlp.grad_plain = sized(13, 3, 7, 4);
  mlp.param_errors = {
      {2, {2, 4, 8}, {"[ttt_mlp]", "w2 must have shape (H, I, D) = (2, 8, 4)", "got (2, 4, 8)", "w1: f64 (2, 4, 8)"}},
      {1, {2, 4}, {"b1 must have shape (H, I) = (2, 8)"}}};
  mlp.init_swap = 2;
  mlp.init_message = "w2: f64 (2, 4, 8)";
  return {linear, mlp};
}

// Every inner model's forward cases, each with its model.
std::vector<std::pair<InnerCase, TttCase>> forward_cases() {
  std::vector<std::pair<InnerCase, TttCase>> all;
  for (const InnerCase& ic : inner_cases())
    for (const TttCase& c : ic.forward) all.emplace_back(ic, c);
  return all;
}

// f() must throw with a message containing every part.
template <class F>
void require_throws_containing(F&& f, const std::vector<std::string>& parts) {
  std::string what;
  try {
    f();
  } catch (const std::exception& e) {
    what = e.what();
  }
  INFO("message: " << what);
  REQUIRE_FALSE(what.empty());
  for (const std::string& p : parts) REQUIRE_THAT(what, Catch::Contains(p));
}

}  // namespace

TEST_CASE("ttt forward matches the primal form and the independent reference", "[ops][ttt]") {
  const auto [ic, c] = GENERATE(from_range(forward_cases()));
  auto flags = GENERATE(std::pair{true, true}, std::pair{false, true}, std::pair{true, false}, std::pair{false, false});
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = c.mini_batch;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  INFO(ic.op << " T " << c.T << " D " << c.D << " I " << c.I << " mini_batch " << c.mini_batch << " layer_norm "
             << o.layer_norm << " residual " << o.residual);
  Tensor dual = call_ttt(ttt_args(in, ic.model), o, ic.model);
  require_close(dual, call_ttt(ttt_args(in, ic.model), o, ic.model, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_close(dual, ref_ttt(in, o, ic.model), 1e-10, 1e-10, "dual vs test reference");
}

TEST_CASE("ttt forward takes non-contiguous views, and f32 agrees with f64", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  INFO(ic.op);
  TttInputs in = make_ttt_inputs(ic.views);
  ops::TttOptions o;
  o.mini_batch = 8;
  Tensor want = call_ttt(ttt_args(in, ic.model), o, ic.model);
  // xq and xv as the (B, H, T, D) views of (B, T, H, D) tensors, as a layer's head split produces them, and
  // every 3-D inner parameter as a transposed view.
  TttInputs nc = in;
  nc.xq = ops::permute(ops::contiguous(ops::permute(in.xq, {0, 2, 1, 3})), {0, 2, 1, 3});
  nc.xv = ops::permute(ops::contiguous(ops::permute(in.xv, {0, 2, 1, 3})), {0, 2, 1, 3});
  for (Tensor* p : {&nc.w0, &nc.w1, &nc.w2}) *p = ops::transpose(ops::contiguous(ops::transpose(*p, 1, 2)), 1, 2);
  REQUIRE_FALSE(nc.xq.is_contiguous());
  REQUIRE_FALSE(nc.xv.is_contiguous());
  for (const Tensor& p : inner_params(nc, ic.model))
    if (p.ndim() == 3) REQUIRE_FALSE(p.is_contiguous());
  require_close(call_ttt(ttt_args(nc, ic.model), o, ic.model), want, 0, 0, "non-contiguous views");
  std::vector<Tensor> f32;
  for (const Tensor& a : ttt_args(in, ic.model)) f32.push_back(ops::cast(a, Dtype::f32));
  Tensor got = call_ttt(f32, o, ic.model);
  REQUIRE(got.dtype() == Dtype::f32);
  require_close(got, want, 2e-5, 2e-5, "f32 vs f64");
}

TEST_CASE(
    "ttt forward of the linear inner model equals causal linear attention with the inner bias as a "
    "constant feature",
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
  Tensor got = call_ttt(ttt_args(in, InnerModel::linear), o, InnerModel::linear);
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

TEST_CASE("ttt forward by decode steps matches the sequence op token by token", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  auto flags = GENERATE(std::pair{true, true}, std::pair{false, false});
  INFO(ic.op);
  const TttCase& c = ic.decode;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  Tensor want = call_ttt(ttt_args(in, ic.model), o, ic.model);
  ops::TttDecodeState st = ops::ttt_decode_init({ic.model, inner_params(in, ic.model)}, c.B);
  for (int64_t t = 0; t < c.T; ++t) {
    Tensor z = ops::ttt_decode_step(st,
                                    {ops::select(in.xq, 2, t), ops::select(in.xk, 2, t), ops::select(in.xv, 2, t),
                                     in.token_eta, ops::select(in.ttt_lr, 2, t), in.ln_weight, in.ln_bias},
                                    o);
    require_close(z, ops::contiguous(ops::select(want, 2, t)), 1e-10, 1e-10, "token " + std::to_string(t));
  }
  REQUIRE(st.position == c.T);
}

TEST_CASE("ttt backward matches central differences of the primal form", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  INFO(ic.op);
  ops::TttOptions o;
  o.mini_batch = 8;
  o.snapshot_every = 2;
  require_primal_spot_check(ttt_args(make_ttt_inputs(ic.spot), ic.model), o, ic.model);
}

TEST_CASE("ttt at widths that fill whole vectors: forward and backward vs the primal form, f32 vs f64", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  INFO(ic.op);
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(ic.wide), ic.model);
  ops::TttOptions o;
  o.mini_batch = 16;
  o.snapshot_every = 2;
  require_close(call_ttt(args, o, ic.model), call_ttt(args, o, ic.model, true), 1e-10, 1e-10, "dual vs primal kernel");
  require_primal_spot_check(args, o, ic.model);
  require_f32_matches_f64(args, o, ic.model);
}

TEST_CASE("ttt backward is bitwise identical for every snapshot_every and thread count", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  INFO(ic.op);
  const std::vector<Tensor> args = ttt_args(make_ttt_inputs(ic.bitwise), ic.model);
  ops::TttOptions o;
  o.mini_batch = 4;
  o.snapshot_every = 1;
  const std::vector<Tensor> want = ttt_grads(args, o, ic.model);
  for (int64_t k : {2, 3, 5, 1000}) {
    o.snapshot_every = k;
    std::vector<Tensor> got = ttt_grads(args, o, ic.model);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("snapshot_every " << k << ", argument " << i);
      REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
    }
  }
  const int threads = omp_get_max_threads();
  omp_set_num_threads(3);
  std::vector<Tensor> got = ttt_grads(args, o, ic.model);
  omp_set_num_threads(threads);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].to_vector<double>() == want[i].to_vector<double>());
}

TEST_CASE("ttt gradcheck", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  INFO(ic.op);
  SECTION("layer norm and residual, short last mini-batch") {
    ops::TttOptions o;
    o.mini_batch = 8;
    o.snapshot_every = 2;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(ic.grad_ln), ic.model)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, ic.model); }, args);
  }
  SECTION("no layer norm, no residual") {
    ops::TttOptions o;
    o.mini_batch = 4;
    o.snapshot_every = 3;
    o.layer_norm = false;
    o.residual = false;
    std::vector<Tensor> args;
    for (const Tensor& a : ttt_args(make_ttt_inputs(ic.grad_plain), ic.model)) args.push_back(req(a));
    require_gradcheck([&](auto& in) { return call_ttt(in, o, ic.model); }, args);
  }
}

TEST_CASE("ttt errors name the op and the shapes", "[ops][ttt]") {
  const InnerCase ic = GENERATE(from_range(inner_cases()));
  const std::string op = "[" + ic.op + "]";
  TttCase c;
  c.T = 16;
  TttInputs in = make_ttt_inputs(c);
  ops::TttOptions o;
  o.mini_batch = 8;
  auto call = [&](const std::vector<Tensor>& a) { return call_ttt(a, o, ic.model); };
  const std::vector<Tensor> good = ttt_args(in, ic.model);
  const size_t n = good.size();
  for (const ParamError& e : ic.param_errors) {
    std::vector<Tensor> bad = good;
    bad[5 + e.param] = Tensor::zeros(e.shape, Dtype::f64);
    require_throws_containing([&] { call(bad); }, e.message);
  }
  std::vector<Tensor> bad = good;
  bad[1] = Tensor::zeros({2, 2, 15, 4}, Dtype::f64);
  require_throws_containing([&] { call(bad); }, {op, "xk", "(2, 2, 15, 4)"});
  bad = good;
  bad[3] = Tensor::zeros({16}, Dtype::f64);
  require_throws_containing([&] { call(bad); }, {"token_eta must have shape (mini_batch) = (8)"});
  bad = good;
  bad[4] = ops::cast(in.ttt_lr, Dtype::f32);
  require_throws_containing([&] { call(bad); }, {op + " operands must have one dtype", "ttt_lr: f32 (2, 2, 16)"});
  bad = good;
  bad[n - 1] = Tensor::zeros({3, 4}, Dtype::f64);
  require_throws_containing([&] { call(bad); }, {"ln_bias must have shape (H, D) = (2, 4)"});
  o.mini_batch = 0;
  require_throws_containing([&] { call(good); }, {"options.mini_batch"});
  o.mini_batch = 8;
  bad = good;
  bad[5] = req(ops::clone(bad[5]));
  require_throws_containing([&] { call_ttt(bad, o, ic.model, true); }, {"[" + ic.op + "_primal] has no backward"});
  ops::TttDecodeState st = ops::ttt_decode_init({ic.model, inner_params(in, ic.model)}, 2);
  require_throws_containing(
      [&] {
        ops::ttt_decode_step(st, {in.xq, in.xk, in.xv, in.token_eta, in.ttt_lr, in.ln_weight, in.ln_bias}, o);
      },
      {"[" + ic.op + "_decode_step] xq must have shape (B, H, D) = (2, 2, 4)", "got (2, 2, 16, 4)"});
  require_throws_containing(
      [&] {
        ops::ttt_decode_step(st,
                             {ops::select(in.xq, 2, 0), ops::select(in.xk, 2, 0), ops::select(in.xv, 2, 0),
                              in.token_eta, in.ttt_lr, in.ln_weight, in.ln_bias},
                             o);
      },
      {"[" + ic.op + "_decode_step] ttt_lr must have shape (B, H) = (2, 2)"});
  std::vector<Tensor> swapped = inner_params(in, ic.model);
  swapped[ic.init_swap] = swapped[0];
  require_throws_containing(
      [&] {
        ops::ttt_decode_init({ic.model, swapped}, 2);
      },
      {"[" + ic.op + "_decode_init]", ic.init_message});
}
