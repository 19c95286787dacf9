#include <catch2/catch.hpp>
#include <omp.h>

#include "autograd/engine.h"
#include "autograd/ops/reduce.h"
#include "helpers.h"

using namespace tttlm;
using namespace tttlm::test;

TEST_CASE("sum forward over chosen dims (and mean of all)", "[ops][reduce]") {
  Tensor x = randn({3, 5, 7}, 1, Dtype::f64);
  Tensor s = ops::sum(x, {0, 2});
  REQUIRE(s.shape() == Shape{5});
  for (int64_t j = 0; j < 5; ++j) {
    double want = 0;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t k = 0; k < 7; ++k) want += x.at({i, j, k});
    REQUIRE(s.at({j}) == Approx(want).epsilon(1e-12));
  }
  REQUIRE(ops::sum(x, {1}, true).shape() == Shape{3, 1, 7});
  REQUIRE(ops::mean(x).item() == Approx(ops::sum(x).item() / 105).epsilon(1e-12));
}

TEST_CASE("sum of many elements does not depend on the thread count", "[ops][reduce]") {
  Tensor x = randn({1, 100003}, 2);
  Tensor rows = randn({37, 4099}, 5);
  const int saved = omp_get_max_threads();
  std::vector<double> total, per_row0;
  for (int threads : {1, 2, 3, 4, 7}) {
    omp_set_num_threads(threads);
    total.push_back(ops::sum(x).item());
    per_row0.push_back(ops::sum(rows, {1}).to_vector<double>()[0]);
  }
  omp_set_num_threads(saved);
  // The blocks and their order are fixed by the size, not by the threads: identical bits for every count.
  for (size_t i = 1; i < total.size(); ++i) {
    INFO("thread count index " << i);
    REQUIRE(total[i] == total[0]);
    REQUIRE(per_row0[i] == per_row0[0]);
  }
  double want = 0;
  for (double v : x.to_vector<double>()) want += v;
  REQUIRE(total[0] == Approx(want).epsilon(1e-6));
}

TEST_CASE("max forward picks the first maximum", "[ops][reduce]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 5, 5, 2, -1, -3}, {2, 3});
  REQUIRE(ops::max(x, 1).to_vector<double>() == std::vector<double>{5, 2});
  REQUIRE(ops::max(x, 0).to_vector<double>() == std::vector<double>{2, 5, 5});
}

TEST_CASE("sum backward broadcasts the gradient", "[ops][reduce]") {
  Tensor x = req(randn({2, 3, 4}, 3, Dtype::f64));
  Tensor dy = randn({3}, 4, Dtype::f64);
  autograd::backward({ops::sum(x, {0, 2})}, {dy});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) REQUIRE(x.grad().at({i, j, k}) == dy.at({j}));
}
TEST_CASE("mean forward divides the sum by the count", "[ops][reduce]") {
  Tensor x = randn({3, 5, 2}, 5, Dtype::f64);
  Tensor m = ops::mean(x, {1});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t k = 0; k < 2; ++k) {
      double s = 0;
      for (int64_t j = 0; j < 5; ++j) s += x.at({i, j, k});
      REQUIRE(m.at({i, k}) == Approx(s / 5).epsilon(1e-12));
    }
}
TEST_CASE("mean backward spreads dy / count", "[ops][reduce]") {
  Tensor x = req(randn({2, 3}, 3, Dtype::f64));
  autograd::backward(ops::sum(ops::mean(x, {1})));
  require_close(x.grad(), Tensor::full({2, 3}, 1.0 / 3, Dtype::f64), 1e-15, 0);
}
TEST_CASE("max backward routes to the first maximum", "[ops][reduce]") {
  Tensor x = req(Tensor::from_vector(std::vector<double>{1, 5, 5, 2, -1, -3}, {2, 3}));
  autograd::backward(ops::sum(ops::max(x, 1)));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 1, 0, 0});
}

TEST_CASE("sum gradcheck", "[ops][reduce]") {
  require_gradcheck([](auto& in) { return ops::sum(in[0], {0, 2}); }, {req(randn({3, 4, 5}, 4, Dtype::f64))});
}
TEST_CASE("mean gradcheck", "[ops][reduce]") {
  require_gradcheck([](auto& in) { return ops::mean(in[0], {1}, true); }, {req(randn({3, 4, 5}, 5, Dtype::f64))});
}
TEST_CASE("max gradcheck", "[ops][reduce]") {
  require_gradcheck([](auto& in) { return ops::max(in[0], -1); }, {req(randn({4, 6}, 6, Dtype::f64))});
}
TEST_CASE("sum_to inverts broadcasting", "[ops][reduce]") {
  Tensor g = Tensor::full({4, 3, 5}, 1.0, Dtype::f64);
  REQUIRE(ops::sum_to(g, {3, 1}).to_vector<double>() == std::vector<double>{20, 20, 20});
}
