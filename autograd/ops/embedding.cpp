#include "autograd/ops/embedding.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "kernels/dispatch.h"
#include "kernels/embedding.h"

namespace tttlm::ops {

namespace {

// "ids[1, 3]" for flat index n of a tensor of shape `shape`.
std::string index_str(const Shape& shape, int64_t n) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = n % shape[d];
    n /= shape[d];
  }
  std::string s = "ids[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

template <class I>
void check_ids(const I* ids, const Shape& shape, int64_t V, const Tensor& weight) {
  const int64_t n = shape_numel(shape);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = static_cast<int64_t>(ids[i]);
    TTT_CHECK(id >= 0 && id < V, "[embedding] ", index_str(shape, i), " = ", id, " is outside [0, ", V, ") for weight ",
              weight.describe());
  }
}

struct EmbeddingBackward final : autograd::Node {
  Tensor ids;  // contiguous, (N) flattened
  int64_t V = 0, C = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dy = contiguous(grad_or_zeros(grads, 0)).detach();
    Tensor dweight = Tensor::empty({V, C}, dy.dtype(), dy.device());
    TTT_DISPATCH(dy.device(), embedding_backward, dy.dtype(), ids.dtype(), dy.data_ptr(), ids.data_ptr(),
                 dweight.data_ptr(), ids.numel(), V, C);
    return {dweight};
  }
  std::string name() const override { return "EmbeddingBackward"; }
};

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_defined("embedding", "weight", weight);
  check_defined("embedding", "ids", ids);
  check_same_device("embedding", {{"weight", &weight}, {"ids", &ids}});
  check_float("embedding", "weight", weight);
  TTT_CHECK(weight.ndim() == 2, "[embedding] weight must have shape (V, C), got weight ", weight.describe(),
            " with ids ", ids.describe());
  TTT_CHECK(ids.dtype() == Dtype::i32 || ids.dtype() == Dtype::i64, "[embedding] ids must be i32 or i64, got ids ",
            ids.describe(), " with weight ", weight.describe());
  const int64_t V = weight.size(0), C = weight.size(1);
  Tensor wc = contiguous(weight), ic = contiguous(ids).detach();
  if (ids.device().is_cpu()) {
    if (ic.dtype() == Dtype::i32)
      check_ids(ic.data<int32_t>(), ids.shape(), V, weight);
    else
      check_ids(ic.data<int64_t>(), ids.shape(), V, weight);
  }
  Shape out_shape = ids.shape();
  out_shape.push_back(C);
  Tensor y = Tensor::empty(out_shape, weight.dtype(), weight.device());
  TTT_DISPATCH(weight.device(), embedding_forward, weight.dtype(), ic.dtype(), wc.data_ptr(), ic.data_ptr(),
               y.data_ptr(), ic.numel(), V, C);
  if (autograd::any_requires_grad({wc})) {
    auto node = std::make_shared<EmbeddingBackward>();
    node->ids = ic;
    node->V = V;
    node->C = C;
    autograd::record(node, {wc}, {y});
  }
  return y;
}

}  // namespace tttlm::ops
