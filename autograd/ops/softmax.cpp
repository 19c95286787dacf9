#include "autograd/ops/softmax.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "kernels/dispatch.h"
#include "kernels/softmax.h"

namespace tttlm::ops {

namespace {

using kernels::SoftmaxKind;

const char* kind_name(SoftmaxKind kind) { return kind == SoftmaxKind::softmax ? "softmax" : "log_softmax"; }

int64_t leading_numel(const Tensor& t) { return shape_numel(Shape(t.shape().begin(), t.shape().end() - 1)); }

struct SoftmaxBackward final : autograd::Node {
  SoftmaxKind kind = SoftmaxKind::softmax;
  Tensor y;  // the forward output (..., V), contiguous, detached
  int64_t rows = 0, cols = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dy = contiguous(cast(grad_or_zeros(grads, 0), y.dtype()));
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    TTT_DISPATCH(y.device(), softmax_backward, kind, y.dtype(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), rows, cols);
    return {dx};
  }
  std::string name() const override { return kind == SoftmaxKind::softmax ? "SoftmaxBackward" : "LogSoftmaxBackward"; }
};

Tensor softmax_any(SoftmaxKind kind, const Tensor& x, int64_t dim) {
  const char* op = kind_name(kind);
  check_defined(op, "x", x);
  check_float(op, "x", x);
  TTT_CHECK(x.ndim() >= 1, "[", op, "] x must have at least one dimension; got x: ", x.describe());
  const int64_t d = normalize_dim(dim, x.ndim(), op);
  TTT_CHECK(d == x.ndim() - 1, "[", op, "] only the last dimension is supported (dim -1 or ", x.ndim() - 1,
            "); got dim ", dim, " for x: ", x.describe());
  const int64_t cols = x.size(-1), rows = leading_numel(x);
  Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  TTT_DISPATCH(x.device(), softmax_forward, kind, x.dtype(), xc.data_ptr(), y.data_ptr(), rows, cols);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<SoftmaxBackward>();
    node->kind = kind;
    node->y = y.detach();
    node->rows = rows;
    node->cols = cols;
    autograd::record(node, {x}, {y});
  }
  return y;
}

struct CrossEntropyBackward final : autograd::Node {
  Tensor logits, targets, lse;  // (..., V) contiguous, (...) contiguous, (rows) statistics dtype; detached
  int64_t rows = 0, cols = 0;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dloss = contiguous(cast(grad_or_zeros(grads, 0), lse.dtype()));
    Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    TTT_DISPATCH(logits.device(), cross_entropy_backward, logits.dtype(), logits.data_ptr(), targets.dtype(),
                 targets.data_ptr(), lse.data_ptr(), dloss.data_ptr(), dlogits.data_ptr(), rows, cols);
    return {dlogits};
  }
  std::string name() const override { return "CrossEntropyBackward"; }
};

// "(1, 2)": the multi-index of flat position i in shape.
std::string position_str(const Shape& shape, int64_t i) {
  Shape idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return shape_str(idx);
}

// Shapes, dtypes and devices; on the CPU also every target value.
void check_cross_entropy_operands(const char* op, const Tensor& logits, const Tensor& targets) {
  check_defined(op, "logits", logits);
  check_defined(op, "targets", targets);
  auto operands = [&] { return describe_operands({{"logits", &logits}, {"targets", &targets}}); };
  check_float(op, "logits", logits);
  TTT_CHECK(targets.dtype() == Dtype::i32 || targets.dtype() == Dtype::i64, "[", op,
            "] targets must be i32 or i64; got ", operands());
  check_same_device(op, {{"logits", &logits}, {"targets", &targets}});
  TTT_CHECK(logits.ndim() >= 1 && logits.size(-1) > 0, "[", op,
            "] logits must have a non-empty last (vocabulary) dimension; got ", operands());
  const Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  TTT_CHECK(targets.shape() == lead, "[", op, "] targets must have shape ", shape_str(lead),
            " (logits without the last dimension); got ", operands());
  if (!targets.device().is_cpu()) return;
  const int64_t V = logits.size(-1);
  const std::vector<int64_t> t = targets.to_vector<int64_t>();
  for (size_t i = 0; i < t.size(); ++i)
    TTT_CHECK(t[i] >= kernels::kIgnoreTarget && t[i] < V, "[", op, "] target ", t[i], " at position ",
              position_str(targets.shape(), static_cast<int64_t>(i)), " is outside [-1, ", V,
              ") (-1 marks an ignored position); ", operands());
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_any(SoftmaxKind::softmax, x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_any(SoftmaxKind::log_softmax, x, dim); }

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  check_cross_entropy_operands("cross_entropy", logits, targets);
  const int64_t cols = logits.size(-1), rows = leading_numel(logits);
  Tensor xc = contiguous(logits.detach()), tc = contiguous(targets.detach());
  const Dtype stats = kernels::softmax_stats_dtype(logits.dtype());
  Tensor loss = Tensor::empty(targets.shape(), stats, logits.device());
  Tensor lse = Tensor::empty({rows}, stats, logits.device());
  TTT_DISPATCH(logits.device(), cross_entropy_forward, logits.dtype(), xc.data_ptr(), tc.dtype(), tc.data_ptr(),
               loss.data_ptr(), lse.data_ptr(), rows, cols);
  if (autograd::any_requires_grad({logits})) {
    auto node = std::make_shared<CrossEntropyBackward>();
    node->logits = xc;
    node->targets = tc;
    node->lse = lse;
    node->rows = rows;
    node->cols = cols;
    autograd::record(node, {logits}, {loss});
  }
  return loss;
}

Tensor cross_entropy_reference(const Tensor& logits, const Tensor& targets) {
  check_cross_entropy_operands("cross_entropy_reference", logits, targets);
  const int64_t V = logits.size(-1);
  const std::vector<int64_t> t = to(targets.detach(), cpu_device()).to_vector<int64_t>();
  Tensor onehot = Tensor::zeros(logits.shape(), Dtype::f64);
  double* oh = onehot.data<double>();
  for (size_t r = 0; r < t.size(); ++r)
    if (t[r] != kernels::kIgnoreTarget) oh[static_cast<int64_t>(r) * V + t[r]] = 1.0;
  onehot = to(cast(onehot, logits.dtype()), logits.device());
  return neg(sum(mul(log_softmax(logits), onehot), {-1}));
}

}  // namespace tttlm::ops
