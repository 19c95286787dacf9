#include <catch2/catch.hpp>

#include "autograd/recompute.h"
#include "autograd/engine.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/matmul.h"
#include "autograd/ops/reduce.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("a tensor used twice accumulates both gradients", "[ops][engine]") {
  Tensor x = req(Tensor::from_vector(std::vector<double>{1, 2, 3}, {3}));
  // L = sum(x*x + 3x) -> dL/dx = 2x + 3
  Tensor y = ops::add(ops::mul(x, x), ops::scale(x, 3.0));
  autograd::backward(ops::sum(y));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{5, 7, 9});
  // A second graph adds into the same leaf grad.
  autograd::backward(ops::sum(ops::scale(x, 2.0)));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{7, 9, 11});
}

TEST_CASE("no_grad records nothing; reusing a freed graph is an error", "[ops][engine]") {
  Tensor x = req(randn({4}, 1, Dtype::f64));
  {
    autograd::NoGradGuard ng;
    Tensor y = ops::mul(x, x);
    REQUIRE_FALSE(y.requires_grad());
  }
  Tensor l = ops::sum(ops::mul(x, x));
  autograd::backward(l);
  REQUIRE_THROWS_WITH(autograd::backward(l), Catch::Contains("already used"));
  REQUIRE_THROWS_WITH(autograd::backward(ops::sum(randn({2}, 2, Dtype::f64))),
                      Catch::Contains("does not require grad"));
}

TEST_CASE("grad_ready_hook fires once per leaf after all contributions", "[ops][engine]") {
  Tensor w = req(randn({3, 3}, 3, Dtype::f64));
  int calls = 0;
  double seen = 0;
  w.autograd_meta().grad_ready_hook = [&](const Tensor& t) {
    ++calls;
    seen = t.grad().to_vector<double>()[0];
  };
  Tensor x = randn({2, 3}, 4, Dtype::f64);
  Tensor y = ops::add(ops::matmul(x, w), ops::matmul(x, w));
  autograd::backward(ops::sum(y));
  REQUIRE(calls == 1);
  REQUIRE(seen == Approx(w.grad().to_vector<double>()[0]));
}

TEST_CASE("recompute (checkpoint) gives the same gradients as the plain graph", "[ops][engine]") {
  Tensor w1 = req(randn({5, 5}, 5, Dtype::f64)), w2 = req(randn({5, 5}, 6, Dtype::f64));
  Tensor x = req(randn({3, 5}, 7, Dtype::f64));
  auto region = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{ops::matmul(ops::mul(ops::matmul(in[0], w1), in[0]), w2)};
  };
  autograd::backward(ops::sum(region({x})[0]));
  Tensor gx = x.grad(), g1 = w1.grad(), g2 = w2.grad();
  x.set_grad(Tensor());
  w1.set_grad(Tensor());
  w2.set_grad(Tensor());
  auto out = autograd::recompute(region, {x});
  REQUIRE(out[0].requires_grad());
  autograd::backward(ops::sum(out[0]));
  require_close(x.grad(), gx, 1e-12, 1e-12, "dx");
  require_close(w1.grad(), g1, 1e-12, 1e-12, "dw1");
  require_close(w2.grad(), g2, 1e-12, 1e-12, "dw2");
}

TEST_CASE("gradcheck catches a wrong gradient", "[ops][engine]") {
  // A deliberately wrong backward: the gradient of y = 2x reported as 3.
  struct Wrong final : autograd::Node {
    std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {ops::scale(g[0], 3.0)}; }
    std::string name() const override { return "Wrong"; }
  };
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor out;
    {
      autograd::NoGradGuard ng;
      out = ops::scale(in[0], 2.0);
    }
    autograd::record(std::make_shared<Wrong>(), {in[0]}, {out});
    return out;
  };
  auto r = autograd::gradcheck(fn, {req(randn({4}, 8, Dtype::f64))});
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.message.find("analytic") != std::string::npos);
}
