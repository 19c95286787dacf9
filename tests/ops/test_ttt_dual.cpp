// The contract that lets the CUDA kernel run kernels/ttt_dual*.h with one thread per index (see the header
// of ttt_dual.h): within one for_n or product, no index reads what another index writes. Checked here by
// running the per-(b, h) math with every phase's indices in order and reversed, with GPU-style products
// (one output element at a time): the results must be bitwise identical.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "helpers.h"
#include "kernels/ttt_inner.h"
#include "ttt_reference.h"

using namespace tttlm;
using namespace tttlm::test;
using kernels::ttt_dual::Mm;

namespace {

struct OrderedExec {
  bool reverse = false;
  int64_t at(int64_t i, int64_t n) const { return reverse ? n - 1 - i : i; }
  template <class F>
  void for_n(int64_t n, F&& f) {
    for (int64_t i = 0; i < n; ++i) f(at(i, n));
  }
  template <class F>
  void for_each(int64_t n, F&& f) {
    for_n(n, f);
  }
  template <class F>
  void for_rows(int64_t rows, int64_t cols, F&& f) {
    for_n(rows * cols, [&](int64_t idx) { f(idx / cols, idx % cols); });
  }
  template <class T>
  void add_col_sums(int64_t rows, int64_t cols, const T* x, T* acc, T sign) {
    for_n(cols, [&](int64_t c) {
      T s = 0;
      for (int64_t i = 0; i < rows; ++i) s += x[i * cols + c];
      acc[c] += sign * s;
    });
  }
  template <class T, class A, class B>
  void product(Mm mode, int64_t M, int64_t N, int64_t K, A a, B b, T* C) {
    for (int64_t x = 0; x < M * N; ++x) {
      const int64_t idx = at(x, M * N), i = idx / N, j = idx % N;
      T s = 0;
      for (int64_t k = 0; k < K; ++k) s += a(i, k) * b(k, j);
      T& c = C[idx];
      c = mode == Mm::set ? s : mode == Mm::add ? c + s : mode == Mm::sub ? c - s : -s;
    }
  }
  template <class T>
  void mm_nn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(
        mode, M, N, K, [&](int64_t i, int64_t k) { return A[i * K + k]; },
        [&](int64_t k, int64_t j) { return B[k * N + j]; }, C);
  }
  template <class T>
  void mm_nt(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(
        mode, M, N, K, [&](int64_t i, int64_t k) { return A[i * K + k]; },
        [&](int64_t k, int64_t j) { return B[j * K + k]; }, C);
  }
  template <class T>
  void mm_tn(Mm mode, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
    product(
        mode, M, N, K, [&](int64_t i, int64_t k) { return A[k * M + i]; },
        [&](int64_t k, int64_t j) { return B[k * N + j]; }, C);
  }
};

// Runs forward and backward of every (b, h) with `ex`; returns out, then every gradient, concatenated.
template <class Inner>
std::vector<double> run_heads(OrderedExec ex, const TttInputs& in, const kernels::TttDims& dims) {
  namespace td = kernels::ttt_dual;
  kernels::TttSequence seq{in.xq.data_ptr(),     in.xk.data_ptr(),        in.xv.data_ptr(),     in.token_eta.data_ptr(),
                           in.ttt_lr.data_ptr(), in.ln_weight.data_ptr(), in.ln_bias.data_ptr()};
  const int64_t BH = dims.batch * dims.heads, d = dims.dim, I = dims.hidden, T = dims.seq, m = dims.mini_batch;
  const int64_t S = td::state_size<Inner>(d, I), nck = dims.num_snapshots();
  const int64_t group = std::min(dims.snapshot_every, dims.num_mini_batches());
  const std::vector<Tensor> params = inner_params(in, Inner::kModel);
  std::vector<double> out(BH * T * d), ckpt(BH * nck * S),
      dout = randn({BH * T * d}, 9, Dtype::f64).to_vector<double>();
  std::vector<double> dq(BH * T * d), dk(BH * T * d), dv(BH * T * d), dlr(BH * T), dtau(BH * m), dg(BH * d), db(BH * d),
      dstate(BH * S);
  std::vector<double> ws(
      std::max(td::forward_workspace<Inner>(m, d, I), td::backward_workspace<Inner>(m, d, I, group)));
  for (int64_t bh = 0; bh < BH; ++bh) {
    const int64_t h = bh % dims.heads;
    auto hd = td::head_at<double>(dims, seq, bh);
    td::ParamPtrs<const double> p;
    for (int i = 0; i < Inner::kNumParams; ++i)
      p.p[i] = params[i].data<double>() + h * td::head_numel(Inner::param(i), d, I);
    td::head_forward<Inner>(ex, hd, p, &out[bh * T * d], &ckpt[bh * nck * S], ws.data());
    td::HeadGrads<double> gr{dout.data() + bh * T * d,
                             &dq[bh * T * d],
                             &dk[bh * T * d],
                             &dv[bh * T * d],
                             &dlr[bh * T],
                             &dtau[bh * m],
                             &dg[bh * d],
                             &db[bh * d],
                             &dstate[bh * S]};
    td::head_backward<Inner>(ex, hd, &ckpt[bh * nck * S], gr, ws.data());
  }
  std::vector<double> all = out;
  for (auto* v : {&dq, &dk, &dv, &dlr, &dtau, &dg, &db, &dstate}) all.insert(all.end(), v->begin(), v->end());
  return all;
}

}  // namespace

TEST_CASE("ttt dual-form math gives the same bits whatever the index order within a phase", "[ops][ttt]") {
  auto model = GENERATE(kernels::InnerModel::linear, kernels::InnerModel::mlp);
  const bool mlp = model == kernels::InnerModel::mlp;
  auto flags = GENERATE(std::pair{true, true}, std::pair{false, false});
  TttCase c;
  c.T = 21;
  c.D = 5;
  c.I = 7;
  c.mini_batch = 8;
  TttInputs in = make_ttt_inputs(c);
  kernels::TttDims dims;
  dims.batch = c.B;
  dims.heads = c.H;
  dims.seq = c.T;
  dims.dim = c.D;
  dims.inner = model;
  dims.hidden = mlp ? c.I : 0;
  dims.mini_batch = c.mini_batch;
  dims.snapshot_every = 2;
  dims.layer_norm = flags.first;
  dims.residual = flags.second;
  auto run = [&](bool reverse) {
    return kernels::with_inner_model(
        model, [&](auto inner) { return run_heads<decltype(inner)>(OrderedExec{reverse}, in, dims); });
  };
  const std::vector<double> fwd = run(false), rev = run(true);
  REQUIRE(fwd == rev);
  // And the serial run is the op: the outputs agree with the CPU executor to rounding.
  ops::TttOptions o;
  o.mini_batch = c.mini_batch;
  o.layer_norm = flags.first;
  o.residual = flags.second;
  const std::vector<double> want = call_ttt(ttt_args(in, model), o, model).to_vector<double>();
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(fwd[i] == Approx(want[i]).margin(1e-12));
}

TEST_CASE("fast_tanhf stays within 1.5 ulp of tanh and keeps NaN", "[ops][ttt]") {
  double worst = 0;
  for (float a = 1e-30f; a < 12.f; a *= 1.0000171f)  // about 4 million magnitudes, both signs
    for (float x : {a, -a}) {
      const double want = std::tanh(static_cast<double>(x));
      const float rounded = static_cast<float>(std::fabs(want));
      const double ulp = std::nextafter(rounded, 2.f) - rounded;
      worst = std::max(worst, std::fabs(kernels::ttt_dual::fast_tanhf(x) - want) / ulp);
    }
  INFO("worst error " << worst << " ulp");
  REQUIRE(worst <= 1.5);
  REQUIRE(std::isnan(kernels::ttt_dual::fast_tanhf(std::nanf(""))));
  REQUIRE(kernels::ttt_dual::fast_tanhf(-INFINITY) == -1.f);
  REQUIRE(kernels::ttt_dual::fast_tanhf(20.f) == 1.f);
  REQUIRE(kernels::ttt_dual::fast_tanhf(0.f) == 0.f);
}
