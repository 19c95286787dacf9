// Shared test helpers: seeded random tensors (Philox, so the same on every machine), closeness checks
// that print the first mismatches with their index (llm.c's validate_result), and a gradcheck wrapper.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace tttlm::test {

// Normal(0, std) values, or uniform in [lo, hi) when uniform is set, as a CPU tensor of dtype.
inline Tensor randn(const Shape& shape, uint64_t seed, Dtype dtype = Dtype::f32, double std = 1.0) {
  std::vector<double> v(shape_numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std * philox::normal(seed, 99, i);
  Tensor t = Tensor::from_vector(v, shape);
  if (dtype == Dtype::f64) return t;
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from_vector(f, shape);
}

inline Tensor randu(const Shape& shape, uint64_t seed, double lo, double hi, Dtype dtype = Dtype::f32) {
  std::vector<double> v(shape_numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = lo + (hi - lo) * philox::uniform(seed, 98, i);
  Tensor t = Tensor::from_vector(v, shape);
  if (dtype == Dtype::f64) return t;
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from_vector(f, shape);
}

// Passes when |got - want| <= atol + rtol * |want| everywhere (and the shapes agree).
inline void require_close(const Tensor& got, const Tensor& want, double atol, double rtol,
                          const std::string& what = "") {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(want.defined());
  REQUIRE(shape_str(got.shape()) == shape_str(want.shape()));
  auto g = got.to_vector<double>();
  auto w = want.to_vector<double>();
  std::ostringstream msg;
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double err = std::abs(g[i] - w[i]);
    bool ok = err <= atol + rtol * std::abs(w[i]) && std::isfinite(g[i]) == std::isfinite(w[i]);
    worst = std::max(worst, err);
    if (!ok && bad++ < 5) msg << "  [" << i << "] got " << g[i] << " want " << w[i] << "\n";
  }
  INFO("mismatches: " << bad << " of " << g.size() << ", max |diff| " << worst << "\n" << msg.str());
  REQUIRE(bad == 0);
}

inline void require_gradcheck(const autograd::GradcheckFn& fn, const std::vector<Tensor>& inputs,
                              autograd::GradcheckOptions opt = {}) {
  auto r = autograd::gradcheck(fn, inputs, opt);
  INFO("gradcheck: " << r.checked << " elements, max |diff| " << r.max_abs_err << "\n" << r.message);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
}

inline Tensor req(Tensor t) {
  t.set_requires_grad(true);
  return t;
}

}  // namespace tttlm::test
