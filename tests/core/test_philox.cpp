#include <catch2/catch.hpp>
#include <cmath>

#include "core/philox.h"

using namespace tttlm;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[core]") {
  // Known-answer tests from Random123's kat_vectors for philox4x32_10.
  auto r = philox::philox4x32(0, 0, 0);
  REQUIRE(r.x[0] == 0x6627e8d5u);
  REQUIRE(r.x[1] == 0xe169c58du);
  REQUIRE(r.x[2] == 0xbc57ac4cu);
  REQUIRE(r.x[3] == 0x9b00dbd8u);
  // counter = all ones, key = all ones
  r = philox::philox4x32(~0ull, ~0ull, ~0ull);
  REQUIRE(r.x[0] == 0x408f276du);
  REQUIRE(r.x[1] == 0x41c83b0eu);
  REQUIRE(r.x[2] == 0xa20bc7c6u);
  REQUIRE(r.x[3] == 0x6d5451fdu);
  // counter = pi digits, key = more pi digits
  r = philox::philox4x32(0x85a308d3243f6a88ull, 0x0370734413198a2eull, 0x299f31d0a4093822ull);
  REQUIRE(r.x[0] == 0xd16cfe09u);
  REQUIRE(r.x[1] == 0x94fdccebu);
  REQUIRE(r.x[2] == 0x5001e420u);
  REQUIRE(r.x[3] == 0x24126ea1u);
}

TEST_CASE("philox normals have unit moments", "[core]") {
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double v = philox::normal(42, 0, i);
    s += v;
    s2 += v * v;
  }
  REQUIRE(std::abs(s / n) < 0.01);
  REQUIRE(std::abs(s2 / n - 1.0) < 0.01);
}
