// Element types. f32 is the compute type everywhere on the CPU; bf16 is a storage type (GPU matmuls, mixed
// precision); f64 exists for gradient checks; i32/i64 hold token ids and indices; u16 holds token shards.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace tttlm {

enum class Dtype : uint8_t { f32, bf16, f64, i32, i64, u16 };

// bfloat16 storage: the upper 16 bits of an IEEE float. Conversion from float rounds to nearest even;
// NaN stays NaN.
struct bf16_t {
  uint16_t bits = 0;
  bf16_t() = default;
  explicit bf16_t(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }
  static uint16_t from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
  }
  static float to_float(uint16_t b) {
    uint32_t u = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

inline size_t dtype_size(Dtype d) {
  switch (d) {
    case Dtype::f32:
      return 4;
    case Dtype::bf16:
      return 2;
    case Dtype::f64:
      return 8;
    case Dtype::i32:
      return 4;
    case Dtype::i64:
      return 8;
    case Dtype::u16:
      return 2;
  }
  return 0;
}

inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::f32:
      return "f32";
    case Dtype::bf16:
      return "bf16";
    case Dtype::f64:
      return "f64";
    case Dtype::i32:
      return "i32";
    case Dtype::i64:
      return "i64";
    case Dtype::u16:
      return "u16";
  }
  return "?";
}

inline bool dtype_is_float(Dtype d) { return d == Dtype::f32 || d == Dtype::bf16 || d == Dtype::f64; }

// Parses "f32", "bf16", ...; throws InvalidArgument naming the accepted values.
Dtype dtype_from_name(const std::string& name);

template <class T>
struct DtypeOf;
template <>
struct DtypeOf<float> {
  static constexpr Dtype value = Dtype::f32;
};
template <>
struct DtypeOf<double> {
  static constexpr Dtype value = Dtype::f64;
};
template <>
struct DtypeOf<bf16_t> {
  static constexpr Dtype value = Dtype::bf16;
};
template <>
struct DtypeOf<int32_t> {
  static constexpr Dtype value = Dtype::i32;
};
template <>
struct DtypeOf<int64_t> {
  static constexpr Dtype value = Dtype::i64;
};
template <>
struct DtypeOf<uint16_t> {
  static constexpr Dtype value = Dtype::u16;
};

}  // namespace tttlm
