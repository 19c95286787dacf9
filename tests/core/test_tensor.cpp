#include <catch2/catch.hpp>

#include "core/tensor.h"
#include "core/view.h"

using namespace tttlm;

TEST_CASE("tensor views share storage and compute strides", "[core]") {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector(v, {2, 3, 4});
  REQUIRE(x.is_contiguous());
  REQUIRE(x.strides() == Strides{12, 4, 1});

  Tensor t = view::transpose(x, 0, 2);  // (4, 3, 2)
  REQUIRE(t.shape() == Shape{4, 3, 2});
  REQUIRE_FALSE(t.is_contiguous());
  REQUIRE(t.at({3, 2, 1}) == x.at({1, 2, 3}));
  REQUIRE(t.storage() == x.storage());

  Tensor n = view::narrow(x, 2, 1, 2);  // (2, 3, 2)
  REQUIRE(n.at({1, 0, 1}) == 14.0);
  REQUIRE(n.to_vector<float>() == std::vector<float>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});

  Tensor p = view::permute(x, {1, 2, 0});
  REQUIRE(p.shape() == Shape{3, 4, 2});
  REQUIRE(p.at({2, 3, 1}) == x.at({1, 2, 3}));

  Tensor r = view::reshape(x, {6, -1});
  REQUIRE(r.shape() == Shape{6, 4});
  REQUIRE(r.at({5, 3}) == 23.0);

  Tensor e = view::expand(view::reshape(Tensor::from_vector(std::vector<float>{1, 2, 3}, {3}), {3, 1}), {2, 3, 5});
  REQUIRE(e.strides() == Strides{0, 1, 0});
  REQUIRE(e.at({1, 2, 4}) == 3.0);

  Tensor s = view::select(x, 1, 2);  // (2, 4)
  REQUIRE(s.at({1, 0}) == 20.0);
  REQUIRE(view::unsqueeze(s, 0).shape() == Shape{1, 2, 4});
  REQUIRE(view::squeeze(view::unsqueeze(s, 2), 2).shape() == Shape{2, 4});
}

TEST_CASE("bad views throw errors naming the op and the shape", "[core]") {
  Tensor x = Tensor::zeros({2, 3}, Dtype::f32);
  REQUIRE_THROWS_WITH(view::reshape(x, {4, 2}), Catch::Contains("[reshape]") && Catch::Contains("(4, 2)"));
  REQUIRE_THROWS_WITH(view::narrow(x, 1, 2, 2), Catch::Contains("[narrow]") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(view::expand(x, {3, 3}), Catch::Contains("[expand]") && Catch::Contains("(3, 3)"));
  REQUIRE_THROWS_WITH(view::reshape(view::transpose(x, 0, 1), {6}), Catch::Contains("contiguous"));
  REQUIRE_THROWS_WITH(x.data<double>(), Catch::Contains("f32 (2, 3) on cpu"));
  REQUIRE_THROWS_AS(view::permute(x, {0, 0}), InvalidArgument);
}

TEST_CASE("full, zeros and item", "[core]") {
  Tensor f = Tensor::full({2, 2}, 1.5, Dtype::f64);
  REQUIRE(f.to_vector<double>() == std::vector<double>{1.5, 1.5, 1.5, 1.5});
  REQUIRE(Tensor::zeros({3}, Dtype::i64).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  REQUIRE(Tensor::full({}, 7, Dtype::i32).item() == 7.0);
  REQUIRE_THROWS_WITH(f.item(), Catch::Contains("[item]"));
}

TEST_CASE("cpu storage is 64-byte aligned", "[core]") {
  for (int n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n}, Dtype::f32);
    REQUIRE(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64 == 0);
  }
}
