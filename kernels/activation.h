// Elementwise activations y = f(x) and their derivatives on contiguous buffers of n elements.
// The scalar formulas below are the definition: the CPU kernels and the CUDA kernels (host and device code)
// both call them, so the two backends cannot drift apart. CPU: f32, f64. CUDA: f32, bf16 (computed in f32),
// f64. Backward recomputes f'(x) from x (nothing but x is saved) and overwrites dx.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/declare.h"

#if defined(__CUDACC__)
#define TTT_ACTIVATION_HD __host__ __device__ __forceinline__
#else
#define TTT_ACTIVATION_HD inline
#endif

namespace tttlm::kernels {

enum class Activation : uint8_t { exp, log, sigmoid, silu, gelu_tanh, gelu_exact, softplus, tanh, square, relu };

inline const char* activation_name(Activation act) {
  switch (act) {
    case Activation::exp:
      return "exp";
    case Activation::log:
      return "log";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::silu:
      return "silu";
    case Activation::gelu_tanh:
      return "gelu_tanh";
    case Activation::gelu_exact:
      return "gelu_exact";
    case Activation::softplus:
      return "softplus";
    case Activation::tanh:
      return "tanh";
    case Activation::square:
      return "square";
    case Activation::relu:
      return "relu";
  }
  return "?";
}

// Above this input softplus returns x itself (PyTorch's threshold; docs/spec/mamba.md uses the same).
constexpr double kSoftplusThreshold = 20.0;

// f(x).
//   sigmoid = 1 / (1 + e^-x)          silu = x·sigmoid(x)
//   gelu_tanh = 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x³)))   (docs/spec/ttt.md §2.1)
//   gelu_exact = 0.5x(1 + erf(x / sqrt 2))
//   softplus = x if x > 20 else log1p(e^x)
template <Activation A, class T>
TTT_ACTIVATION_HD T activation_value(T x) {
  using std::erf, std::exp, std::log, std::log1p, std::tanh;
  const T one = T(1), half = T(0.5);
  if constexpr (A == Activation::exp) {
    return exp(x);
  } else if constexpr (A == Activation::log) {
    return log(x);
  } else if constexpr (A == Activation::sigmoid) {
    return one / (one + exp(-x));
  } else if constexpr (A == Activation::silu) {
    return x / (one + exp(-x));
  } else if constexpr (A == Activation::gelu_tanh) {
    return half * x * (one + tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
  } else if constexpr (A == Activation::gelu_exact) {
    return half * x * (one + erf(x * T(0.7071067811865476)));
  } else if constexpr (A == Activation::softplus) {
    return x > T(kSoftplusThreshold) ? x : log1p(exp(x));
  } else if constexpr (A == Activation::tanh) {
    return tanh(x);
  } else if constexpr (A == Activation::square) {
    return x * x;
  } else {
    static_assert(A == Activation::relu);
    return x > T(0) ? x : T(0);
  }
}

// f'(x).
//   gelu_tanh' = 0.5(1 + t) + 0.5x(1 − t²)·sqrt(2/pi)(1 + 3·0.044715x²), t = tanh(...) as above
//   gelu_exact' = Phi(x) + x·phi(x)  (standard normal cdf and pdf)
//   softplus' = 1 if x > 20 else sigmoid(x)
template <Activation A, class T>
TTT_ACTIVATION_HD T activation_derivative(T x) {
  using std::erf, std::exp, std::tanh;
  const T one = T(1), half = T(0.5);
  if constexpr (A == Activation::exp) {
    return exp(x);
  } else if constexpr (A == Activation::log) {
    return one / x;
  } else if constexpr (A == Activation::sigmoid) {
    const T s = one / (one + exp(-x));
    return s * (one - s);
  } else if constexpr (A == Activation::silu) {
    const T s = one / (one + exp(-x));
    return s * (one + x * (one - s));
  } else if constexpr (A == Activation::gelu_tanh) {
    const T k = T(0.7978845608028654), c = T(0.044715);
    const T t = tanh(k * (x + c * x * x * x));
    return half * (one + t) + half * x * (one - t * t) * k * (one + T(3) * c * x * x);
  } else if constexpr (A == Activation::gelu_exact) {
    return half * (one + erf(x * T(0.7071067811865476))) + x * T(0.3989422804014327) * exp(-half * x * x);
  } else if constexpr (A == Activation::softplus) {
    return x > T(kSoftplusThreshold) ? one : one / (one + exp(-x));
  } else if constexpr (A == Activation::tanh) {
    const T t = tanh(x);
    return one - t * t;
  } else if constexpr (A == Activation::square) {
    return T(2) * x;
  } else {
    static_assert(A == Activation::relu);  // relu'(0) = 0
    return x > T(0) ? one : T(0);
  }
}

// Calls f(std::integral_constant<Activation, A>{}) for the runtime value act, so kernels are templates on A.
template <class F>
decltype(auto) visit_activation(Activation act, F&& f) {
  switch (act) {
    case Activation::exp:
      return f(std::integral_constant<Activation, Activation::exp>{});
    case Activation::log:
      return f(std::integral_constant<Activation, Activation::log>{});
    case Activation::sigmoid:
      return f(std::integral_constant<Activation, Activation::sigmoid>{});
    case Activation::silu:
      return f(std::integral_constant<Activation, Activation::silu>{});
    case Activation::gelu_tanh:
      return f(std::integral_constant<Activation, Activation::gelu_tanh>{});
    case Activation::gelu_exact:
      return f(std::integral_constant<Activation, Activation::gelu_exact>{});
    case Activation::softplus:
      return f(std::integral_constant<Activation, Activation::softplus>{});
    case Activation::tanh:
      return f(std::integral_constant<Activation, Activation::tanh>{});
    case Activation::square:
      return f(std::integral_constant<Activation, Activation::square>{});
    case Activation::relu:
      return f(std::integral_constant<Activation, Activation::relu>{});
  }
  throw InvalidArgument(detail::concat("[activation] unknown activation ", static_cast<int>(act)));
}

}  // namespace tttlm::kernels

#undef TTT_ACTIVATION_HD

// y (n) = f(x), contiguous (y may equal x).
TTT_KERNEL(unary_forward, (Activation act, Dtype dtype, const void* x, void* y, int64_t n));
// dx (n) = dy ⊙ f'(x), contiguous; overwrites dx.
TTT_KERNEL(unary_backward, (Activation act, Dtype dtype, const void* x, const void* dy, void* dx, int64_t n));
