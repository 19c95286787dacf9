// Views, copies, concat and padding: every output element is one input element (or a zero), so one
// independent reference serves them all: out[i] = x[src(i)], and dx[src(i)] += dy[i], computed with
// plain loops over multi-indices (no kernel, no strided iteration of the code under test).
#include <catch2/catch.hpp>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops/concat.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/view.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {

using Index = std::vector<int64_t>;
// Maps an output multi-index to an input multi-index, or returns false where the output is a constant zero.
using SrcFn = std::function<bool(const Index& out, Index& in)>;

struct Case {
  std::string name;
  Shape in_shape;
  std::function<Tensor(const Tensor&)> op;
  Shape out_shape;
  SrcFn src;
};

void for_each_index(const Shape& s, const std::function<void(const Index&)>& f) {
  Index idx(s.size(), 0);
  for (int64_t n = 0; n < shape_numel(s); ++n) {
    int64_t rem = n;
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      idx[d] = rem % s[d];
      rem /= s[d];
    }
    f(idx);
  }
}

int64_t linear_index(const Shape& s, const Index& idx) {
  int64_t k = 0;
  for (size_t d = 0; d < s.size(); ++d) k = k * s[d] + idx[d];
  return k;
}

void check_forward(const Case& c) {
  INFO(c.name);
  Tensor x = randn(c.in_shape, 21, Dtype::f64);
  Tensor y = c.op(x);
  REQUIRE(y.shape() == c.out_shape);
  std::vector<double> want(shape_numel(c.out_shape));
  for_each_index(c.out_shape, [&](const Index& o) {
    Index i;
    want[linear_index(c.out_shape, o)] = c.src(o, i) ? x.at(i) : 0.0;
  });
  require_close(y, Tensor::from_vector(want, c.out_shape), 0, 0);
}

void check_backward(const Case& c) {
  INFO(c.name);
  Tensor x = req(randn(c.in_shape, 22, Dtype::f64));
  Tensor dy = randn(c.out_shape, 23, Dtype::f64);
  autograd::backward({c.op(x)}, {dy});
  std::vector<double> want(shape_numel(c.in_shape), 0.0);
  auto dyv = dy.to_vector<double>();
  for_each_index(c.out_shape, [&](const Index& o) {
    Index i;
    if (c.src(o, i)) want[linear_index(c.in_shape, i)] += dyv[linear_index(c.out_shape, o)];
  });
  require_close(x.grad(), Tensor::from_vector(want, c.in_shape), 1e-15, 1e-15);
}

void check_gradcheck(const Case& c) {
  INFO(c.name);
  require_gradcheck([&](auto& in) { return c.op(in[0]); }, {req(randn(c.in_shape, 24, Dtype::f64))});
}

Case reshape_case() {
  return {"reshape",
          {3, 4, 5},
          [](const Tensor& x) {
            return ops::reshape(ops::transpose(x, 0, 2), {5, -1});
          },
          {5, 12},
          [](const Index& o, Index& i) {
            int64_t k = o[0] * 12 + o[1];  // element k of the (5, 4, 3) transposed view
            i = {k % 3, (k / 3) % 4, k / 12};
            return true;
          }};
}
Case transpose_case() {
  return {"transpose",
          {3, 4, 5},
          [](const Tensor& x) { return ops::transpose(x, 0, 2); },
          {5, 4, 3},
          [](const Index& o, Index& i) {
            i = {o[2], o[1], o[0]};
            return true;
          }};
}
Case permute_case() {
  return {"permute",
          {2, 3, 5, 7},
          [](const Tensor& x) {
            return ops::permute(x, {2, 0, 3, 1});
          },
          {5, 2, 7, 3},
          [](const Index& o, Index& i) {
            i = {o[1], o[3], o[0], o[2]};
            return true;
          }};
}
Case narrow_case() {
  return {"narrow",
          {5, 7},
          [](const Tensor& x) { return ops::narrow(x, 1, 2, 4); },
          {5, 4},
          [](const Index& o, Index& i) {
            i = {o[0], o[1] + 2};
            return true;
          }};
}
Case expand_case() {
  return {"expand",
          {3, 1},
          [](const Tensor& x) {
            return ops::expand(x, {2, 3, 5});
          },
          {2, 3, 5},
          [](const Index& o, Index& i) {
            i = {o[1], 0};
            return true;
          }};
}
Case unsqueeze_case() {
  return {"unsqueeze",
          {3, 5},
          [](const Tensor& x) { return ops::unsqueeze(ops::transpose(x, 0, 1), 1); },
          {5, 1, 3},
          [](const Index& o, Index& i) {
            i = {o[2], o[0]};
            return true;
          }};
}
Case squeeze_case() {
  return {"squeeze",
          {3, 1, 5},
          [](const Tensor& x) { return ops::squeeze(x, 1); },
          {3, 5},
          [](const Index& o, Index& i) {
            i = {o[0], 0, o[1]};
            return true;
          }};
}
Case select_case() {
  return {"select",
          {4, 3, 5},
          [](const Tensor& x) { return ops::select(x, 1, 2); },
          {4, 5},
          [](const Index& o, Index& i) {
            i = {o[0], 2, o[1]};
            return true;
          }};
}
Case contiguous_case() {
  return {"contiguous",
          {4, 6},
          [](const Tensor& x) { return ops::contiguous(ops::transpose(x, 0, 1)); },
          {6, 4},
          [](const Index& o, Index& i) {
            i = {o[1], o[0]};
            return true;
          }};
}
Case clone_case() {
  return {"clone",
          {5, 3},
          [](const Tensor& x) { return ops::clone(x); },
          {5, 3},
          [](const Index& o, Index& i) {
            i = o;
            return true;
          }};
}
Case pad_dim_case() {
  return {"pad_dim",
          {3, 4},
          [](const Tensor& x) { return ops::pad_dim(x, 1, 2, 1); },
          {3, 7},
          [](const Index& o, Index& i) {
            if (o[1] < 2 || o[1] >= 6) return false;
            i = {o[0], o[1] - 2};
            return true;
          }};
}
Case concat_case() {
  // concat of two views of the same input: rows [0, 2) and the transposed-back rows [1, 4).
  return {"concat",
          {4, 5},
          [](const Tensor& x) {
            return ops::concat({ops::narrow(x, 0, 0, 2), ops::narrow(x, 0, 1, 3)}, 0);
          },
          {5, 5},
          [](const Index& o, Index& i) {
            i = {o[0] < 2 ? o[0] : o[0] - 1, o[1]};
            return true;
          }};
}

std::vector<Case> all_cases() {
  return {reshape_case(), transpose_case(), permute_case(),    narrow_case(), expand_case(),  unsqueeze_case(),
          squeeze_case(), select_case(),    contiguous_case(), clone_case(),  pad_dim_case(), concat_case()};
}

Case find(const std::string& name) {
  for (auto& c : all_cases())
    if (c.name == name) return c;
  throw std::runtime_error("no case " + name);
}

}  // namespace

#define TTT_GATHER_TESTS(OP)                                                                          \
  TEST_CASE(#OP " forward picks the reference elements", "[ops][view]") { check_forward(find(#OP)); } \
  TEST_CASE(#OP " backward scatters the gradient back", "[ops][view]") { check_backward(find(#OP)); } \
  TEST_CASE(#OP " gradcheck (gather reference)", "[ops][view]") { check_gradcheck(find(#OP)); }

TTT_GATHER_TESTS(reshape)
TTT_GATHER_TESTS(transpose)
TTT_GATHER_TESTS(permute)
TTT_GATHER_TESTS(narrow)
TTT_GATHER_TESTS(expand)
TTT_GATHER_TESTS(unsqueeze)
TTT_GATHER_TESTS(squeeze)
TTT_GATHER_TESTS(select)
TTT_GATHER_TESTS(contiguous)
TTT_GATHER_TESTS(clone)
TTT_GATHER_TESTS(pad_dim)
TTT_GATHER_TESTS(concat)

TEST_CASE("cast forward rounds to the target dtype", "[ops][view]") {
  Tensor x = randn({5, 7}, 25, Dtype::f64);
  Tensor y = ops::cast(x, Dtype::f32);
  auto xv = x.to_vector<double>();
  auto yv = y.to_vector<float>();
  for (size_t i = 0; i < xv.size(); ++i) REQUIRE(yv[i] == static_cast<float>(xv[i]));
  Tensor b = ops::cast(y, Dtype::bf16);
  auto bv = b.to_vector<float>();
  for (size_t i = 0; i < yv.size(); ++i) REQUIRE(bv[i] == static_cast<float>(bf16_t(yv[i])));
}

TEST_CASE("cast backward casts the gradient back", "[ops][view]") {
  Tensor x = req(randn({3, 4}, 26, Dtype::f64));
  Tensor dy = randn({3, 4}, 27, Dtype::f32);
  autograd::backward({ops::cast(x, Dtype::f32)}, {dy});
  REQUIRE(x.grad().dtype() == Dtype::f64);
  require_close(x.grad(), ops::cast(dy, Dtype::f64), 0, 0);
}

TEST_CASE("cast gradcheck through f32 and back", "[ops][view]") {
  autograd::GradcheckOptions o;
  o.eps = 1e-3;  // the f32 round trip is piecewise constant at ~1e-7 relative resolution
  o.rtol = 1e-3;
  o.atol = 1e-4;
  require_gradcheck([](auto& in) { return ops::cast(ops::cast(in[0], Dtype::f32), Dtype::f64); },
                    {req(randn({3, 4}, 28, Dtype::f64))}, o);
}
