#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "core/dtype.h"

using namespace tttlm;

TEST_CASE("bf16 rounds to nearest even and keeps NaN", "[core]") {
  REQUIRE(static_cast<float>(bf16_t(1.0f)) == 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  REQUIRE(static_cast<float>(bf16_t(1.0f + std::ldexp(1.0f, -8))) == 1.0f);
  // 1 + 3*2^-8 is halfway between 1+2^-7 and 1+2^-6: ties go to even (1 + 2^-6).
  REQUIRE(static_cast<float>(bf16_t(1.0f + 3 * std::ldexp(1.0f, -8))) == 1.0f + std::ldexp(1.0f, -6));
  REQUIRE(static_cast<float>(bf16_t(0.1f)) == 0.10009765625f);  // the value docs/spec/ttt.md §4 quotes
  REQUIRE(std::isnan(static_cast<float>(bf16_t(std::numeric_limits<float>::quiet_NaN()))));
  REQUIRE(std::isinf(static_cast<float>(bf16_t(std::numeric_limits<float>::infinity()))));
}

TEST_CASE("dtype names round trip", "[core]") {
  for (Dtype d : {Dtype::f32, Dtype::bf16, Dtype::f64, Dtype::i32, Dtype::i64, Dtype::u16})
    REQUIRE(dtype_from_name(dtype_name(d)) == d);
  REQUIRE_THROWS_WITH(dtype_from_name("f16"), Catch::Contains("f16") && Catch::Contains("bf16"));
}
