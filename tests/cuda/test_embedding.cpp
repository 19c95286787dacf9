#include <catch2/catch.hpp>

#include "autograd/ops/embedding.h"
#include "parity.h"

using namespace tttlm;
using namespace tttlm::test;

namespace {
Tensor some_ids(const Shape& shape, int64_t V, uint64_t seed, Dtype dtype) {
  std::vector<int64_t> ids(shape_numel(shape));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(philox::uniform(seed, 5, i) * V);
  ids[0] = V - 1;
  if (dtype == Dtype::i64) return Tensor::from_vector(ids, shape);
  return Tensor::from_vector(std::vector<int32_t>(ids.begin(), ids.end()), shape);
}
}  // namespace

TEST_CASE("cuda parity: embedding forward and deterministic backward", "[cuda]") {
  auto dtype = GENERATE(Dtype::f32, Dtype::bf16);
  auto id_dtype = GENERATE(Dtype::i32, Dtype::i64);
  Tensor w = randn({37, 11}, 1);
  Tensor ids = some_ids({4, 513}, 37, 2, id_dtype);  // about 55 tokens per id
  Tol tol = tol_for(dtype);
  tol.atol *= 4;  // each dweight row sums ~55 gradients (f32 on CUDA, double on the CPU)
  require_parity([](auto& in) { return ops::embedding(in[0], in[1]); }, {w, ids}, dtype, tol);
}

TEST_CASE("cuda: embedding backward repeats bit for bit", "[cuda]") {
  Tensor w = req(ops::to(randn({50, 64}, 3), cuda_device()));
  Tensor ids = ops::to(some_ids({8, 1000}, 50, 4, Dtype::i64), cuda_device());
  Tensor dy = ops::to(randn({8, 1000, 64}, 5), cuda_device());
  autograd::backward({ops::embedding(w, ids)}, {dy});
  auto first = ops::to(w.grad(), cpu_device()).to_vector<float>();
  w.set_grad(Tensor());
  autograd::backward({ops::embedding(w, ids)}, {dy});
  REQUIRE(ops::to(w.grad(), cpu_device()).to_vector<float>() == first);
}
