// .npy reading against files numpy wrote (scripts/make_data_fixtures.py), the error of every broken file,
// and the writer against numpy's bytes.
#include <catch2/catch.hpp>
#include <cstring>

#include "core/view.h"
#include "data/npy.h"
#include "data_fixtures.h"

using namespace tttlm;
using namespace tttlm::data;
using Catch::Contains;
using test::fixture;

namespace {

// The value formulas of scripts/make_data_fixtures.py.
int64_t u16_value(int64_t i) { return (i * 7919 + 13) % 65521; }
int64_t i32_value(int64_t i) { return i * 104729 - 5000000; }
int64_t i64_value(int64_t i) { return i * (int64_t{1} << 33) - 7 * i + 3; }

std::string header_bytes(const std::string& dict, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  size_t len = dict.size();
  for (int b = 0; b < (major == 1 ? 2 : 4); ++b) out += static_cast<char>((len >> (8 * b)) & 0xff);
  return out + dict;
}

NpyHeader parse(const std::string& bytes) {
  return parse_npy_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem.npy");
}

}  // namespace

TEST_CASE("npy reads uint16 arrays of format versions 1.0, 2.0 and 3.0 written by numpy", "[data][npy]") {
  for (const char* name : {"u16_v1.npy", "u16_v2.npy", "u16_v3.npy"}) {
    INFO(name);
    std::string path = fixture(std::string("npy/") + name);
    NpyHeader h = read_npy_header(path);
    REQUIRE(h.major == name[5] - '0');
    REQUIRE(h.descr == "<u2");
    REQUIRE(h.shape == std::vector<uint64_t>{777});
    REQUIRE(h.data_offset % 64 == 0);
    Tensor t = read_npy(path);
    REQUIRE(t.dtype() == Dtype::u16);
    REQUIRE(t.shape() == Shape{777});
    auto v = t.to_vector<int64_t>();
    for (int64_t i = 0; i < 777; ++i) REQUIRE(v[i] == u16_value(i));
  }
}

TEST_CASE("npy reads int32, int64, float arrays of any rank, scalars and empty arrays", "[data][npy]") {
  Tensor a = read_npy(fixture("npy/i32_300.npy"));
  REQUIRE(a.dtype() == Dtype::i32);
  REQUIRE(a.shape() == Shape{300});
  auto av = a.to_vector<int64_t>();
  for (int64_t i = 0; i < 300; ++i) REQUIRE(av[i] == i32_value(i));

  Tensor b = read_npy(fixture("npy/i32_2x7.npy"));  // what `tttlm eval --tokens` reads: (B, T)
  REQUIRE(b.shape() == Shape{2, 7});
  REQUIRE(b.at({1, 3}) == static_cast<double>(i32_value(10)));

  Tensor c = read_npy(fixture("npy/i64_3x5.npy"));
  REQUIRE(c.dtype() == Dtype::i64);
  REQUIRE(c.shape() == Shape{3, 5});
  auto cv = c.to_vector<int64_t>();
  for (int64_t i = 0; i < 15; ++i) REQUIRE(cv[i] == i64_value(i));
  REQUIRE(cv[14] > (int64_t{1} << 32));  // the upper word is really read

  Tensor f = read_npy(fixture("npy/f32_2x3.npy"));
  REQUIRE(f.dtype() == Dtype::f32);
  REQUIRE(f.to_vector<float>() == std::vector<float>{0.5f, -1.25f, 3.0f, 1e-3f, 2.5e6f, -0.0f});
  Tensor d = read_npy(fixture("npy/f64_4.npy"));
  REQUIRE(d.to_vector<double>() == std::vector<double>{1.0 / 3.0, -2.0, 1e-300, 6.02214076e23});

  Tensor s = read_npy(fixture("npy/f32_scalar.npy"));
  REQUIRE(s.ndim() == 0);
  REQUIRE(s.item() == 2.75);
  REQUIRE(read_npy(fixture("npy/u16_empty.npy")).shape() == Shape{0});
  REQUIRE(read_npy(fixture("npy/i64_2x0x3.npy")).shape() == Shape{2, 0, 3});
}

TEST_CASE("npy rejects big-endian, unsupported and structured dtypes naming the file and offset", "[data][npy]") {
  std::string be = fixture("npy/bad_big_endian.npy");
  REQUIRE_THROWS_WITH(read_npy_header(be), Contains("[npy]") && Contains(be) && Contains("byte offset 20") &&
                                               Contains("big-endian dtype '>u2'"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_u8.npy")),
                      Contains("bad_u8.npy") && Contains("unsupported dtype '|u1'") && Contains("'<u2', '<i4'"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_f16.npy")), Contains("unsupported dtype '<f2'"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_structured.npy")), Contains("structured dtypes are not supported"));
  REQUIRE_THROWS_AS(read_npy(be), InvalidArgument);
}

TEST_CASE("npy rejects a wrong magic, version, truncation and Fortran order with the expected text", "[data][npy]") {
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_magic.npy")),
                      Contains("bad_magic.npy") && Contains("byte offset 0: expected the magic") && Contains("NUMPZ"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_version.npy")),
                      Contains("byte offset 6: expected format version 1.0, 2.0 or 3.0; found 4.0"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_tiny.npy")), Contains("truncated") && Contains("found only 7 bytes"));
  // The header of a (50,) uint16 array ends at byte 128; the file was cut at 60.
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_truncated_header.npy")),
                      Contains("truncated header") && Contains("ends at byte offset 128") && Contains("found only 60"));
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_truncated_data.npy")),
                      Contains("truncated data: shape (50,) of '<u2' needs a file of 228 bytes (100 data bytes from "
                               "byte offset 128); found 218 bytes"));
  NpyHeader h = read_npy_header(fixture("npy/bad_fortran.npy"));
  REQUIRE(h.fortran_order);
  REQUIRE_THROWS_WITH(read_npy(fixture("npy/bad_fortran.npy")),
                      Contains("Fortran-ordered arrays of rank > 1") && Contains("(2, 3)"));
}

TEST_CASE("npy header parser accepts numpy's spellings and rejects malformed dicts", "[data][npy]") {
  // Double quotes, no trailing comma, Python 2 longs, keys in another order, v2 preamble.
  NpyHeader h = parse(header_bytes("{\"shape\": (3L, 4L), \"fortran_order\": False, \"descr\": \"<i4\"}\n"));
  REQUIRE(h.shape == std::vector<uint64_t>{3, 4});
  REQUIRE(h.dtype == Dtype::i32);
  REQUIRE(h.data_offset == 10 + 60);
  NpyHeader h2 = parse(header_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (), }   \n", 2));
  REQUIRE(h2.major == 2);
  REQUIRE(h2.shape.empty());
  REQUIRE(h2.data_offset == 12 + 58);

  std::string huge = header_bytes("{}\n", 2);
  huge[11] = 1;  // HEADER_LEN = 2^24 + 3
  REQUIRE_THROWS_WITH(parse(huge), Contains("byte offset 8: expected HEADER_LEN <= 1048576; found 16777219"));
  REQUIRE_THROWS_WITH(parse(header_bytes("{'descr': '<u2', 'shape': (5,), }\n")),
                      Contains("mem.npy") && Contains("lacks the key 'fortran_order'"));
  REQUIRE_THROWS_WITH(parse(header_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (5,), 'x': 1}\n")),
                      Contains("unknown header key 'x'") && Contains("byte offset 66"));
  REQUIRE_THROWS_WITH(parse(header_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (5,), }")),
                      Contains("header to end with '\\n'"));
  REQUIRE_THROWS_WITH(parse(header_bytes("{'descr': '<u2', 'fortran_order': Nope, 'shape': (5,), }\n")),
                      Contains("byte offset 44: expected True or False"));
  REQUIRE_THROWS_WITH(parse(header_bytes("{'descr': '<u2', 'fortran_order': False, 'shape': (5, -1), }\n")),
                      Contains("expected a non-negative integer"));
}

TEST_CASE("npy writer reproduces numpy's bytes and round-trips", "[data][npy]") {
  test::TempDir tmp;
  for (const char* name : {"u16_v1.npy", "i32_300.npy", "i32_2x7.npy", "i64_3x5.npy", "f32_2x3.npy", "f64_4.npy",
                           "f32_scalar.npy", "u16_empty.npy", "i64_2x0x3.npy", "i32_align_edge.npy"}) {
    INFO(name);
    std::string src = fixture(std::string("npy/") + name);
    Tensor t = read_npy(src);
    write_npy(tmp / name, t);
    REQUIRE(test::read_bytes(tmp / name) == test::read_bytes(src));
    REQUIRE(!std::filesystem::exists(tmp / (std::string(name) + ".tmp")));
  }
  // A wide shape whose header needs a second 64-byte block; read back by the parser.
  Tensor big = Tensor::zeros({1234567890123, 0, 7, 11, 13}, Dtype::f32);
  std::string hdr = npy_header_bytes(Dtype::f32, big.shape());
  REQUIRE(hdr.size() % 64 == 0);
  NpyHeader h = parse_npy_header(reinterpret_cast<const uint8_t*>(hdr.data()), hdr.size(), "big");
  REQUIRE(h.shape == std::vector<uint64_t>{1234567890123, 0, 7, 11, 13});
  REQUIRE(h.data_offset == hdr.size());
}

TEST_CASE("npy writer rejects non-contiguous tensors and unsupported dtypes", "[data][npy]") {
  test::TempDir tmp;
  Tensor x = Tensor::zeros({3, 4}, Dtype::f32);
  REQUIRE_THROWS_WITH(write_npy(tmp / "t.npy", view::transpose(x, 0, 1)),
                      Contains("[npy]") && Contains("contiguous") && Contains("(4, 3)"));
  REQUIRE_THROWS_WITH(write_npy(tmp / "b.npy", Tensor::zeros({2}, Dtype::bf16)), Contains("cannot write dtype bf16"));
  REQUIRE(!std::filesystem::exists(tmp / "b.npy"));
}
