#include "autograd/ops/reduce.h"

#include <algorithm>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/view.h"
#include "core/view.h"
#include "kernels/dispatch.h"
#include "kernels/reduce.h"

namespace tttlm::ops {

namespace {

struct Plan {
  std::vector<int64_t> perm;  // kept dims, then reduced dims
  Shape kept_shape;           // shape without reduced dims
  Shape keep_shape;           // shape with reduced dims as 1
  int64_t rows = 1, cols = 1;
};

Plan make_plan(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  Plan p;
  std::vector<bool> reduced(x.ndim(), dims.empty());
  for (auto d : dims) reduced[normalize_dim(d, x.ndim(), op)] = true;
  for (int64_t i = 0; i < x.ndim(); ++i)
    if (!reduced[i]) {
      p.perm.push_back(i);
      p.kept_shape.push_back(x.shape()[i]);
      p.rows *= x.shape()[i];
    }
  for (int64_t i = 0; i < x.ndim(); ++i) {
    if (reduced[i]) {
      p.perm.push_back(i);
      p.cols *= x.shape()[i];
    }
    p.keep_shape.push_back(reduced[i] ? 1 : x.shape()[i]);
  }
  return p;
}

// (rows, cols) contiguous matrix of x's values with reduced dims last.
Tensor as_rows(const Tensor& x, const Plan& p) {
  Tensor c = contiguous(view::permute(x.detach(), p.perm)).detach();
  return c;
}

struct SumBackward final : autograd::Node {
  Shape in_shape, keep_shape;
  double scale = 1.0;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gk = reshape(g[0], keep_shape);
    Tensor e = contiguous(expand(gk, in_shape));
    return {scale == 1.0 ? e : affine(e, scale)};
  }
  std::string name() const override { return "SumBackward"; }
};

struct MaxBackward final : autograd::Node {
  Tensor argmax;  // (rows) i64
  Plan plan;
  Shape in_shape;
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gc = contiguous(g[0]);
    Tensor dx_rows = Tensor::empty({plan.rows, plan.cols}, gc.dtype(), gc.device());
    TTT_DISPATCH(gc.device(), reduce_max_backward, gc.dtype(), gc.data_ptr(), argmax.data<int64_t>(),
                 dx_rows.data_ptr(), plan.rows, plan.cols);
    // dx_rows is x permuted (kept dims, reduced dim); undo the permutation.
    Shape permuted;
    for (auto d : plan.perm) permuted.push_back(in_shape[d]);
    std::vector<int64_t> inv(plan.perm.size());
    for (size_t i = 0; i < plan.perm.size(); ++i) inv[plan.perm[i]] = i;
    return {contiguous(permute(reshape(dx_rows, permuted), inv))};
  }
  std::string name() const override { return "MaxBackward"; }
};

Tensor reduce_sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, double scale, const char* op) {
  check_defined(op, "x", x);
  check_float(op, "x", x);
  Plan p = make_plan(x, dims, op);
  Tensor rows = as_rows(x, p);
  Tensor out = Tensor::empty(keepdim ? p.keep_shape : p.kept_shape, x.dtype(), x.device());
  TTT_DISPATCH(x.device(), reduce_rows, kernels::ReduceOp::sum, x.dtype(), rows.data_ptr(), out.data_ptr(), nullptr,
               p.rows, p.cols);
  if (scale != 1.0) {
    Tensor scaled = affine(out, scale);
    out = scaled;
  }
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<SumBackward>();
    node->in_shape = x.shape();
    node->keep_shape = p.keep_shape;
    node->scale = scale;
    autograd::record(node, {x}, {out});
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_sum(x, dims, keepdim, 1.0, "sum");
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Plan p = make_plan(x, dims, "mean");
  TTT_CHECK(p.cols > 0, "[mean] reducing over zero elements of ", x.describe());
  return reduce_sum(x, dims, keepdim, 1.0 / static_cast<double>(p.cols), "mean");
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("max", "x", x);
  check_float("max", "x", x);
  int64_t d = normalize_dim(dim, x.ndim(), "max");
  TTT_CHECK(x.shape()[d] > 0, "[max] reducing over an empty dimension of ", x.describe());
  Plan p = make_plan(x, {d}, "max");
  Tensor rows = as_rows(x, p);
  Tensor out = Tensor::empty(keepdim ? p.keep_shape : p.kept_shape, x.dtype(), x.device());
  Tensor argmax = Tensor::empty({p.rows}, Dtype::i64, x.device());
  TTT_DISPATCH(x.device(), reduce_rows, kernels::ReduceOp::max, x.dtype(), rows.data_ptr(), out.data_ptr(),
               argmax.data<int64_t>(), p.rows, p.cols);
  if (autograd::any_requires_grad({x})) {
    auto node = std::make_shared<MaxBackward>();
    node->argmax = argmax;
    node->plan = p;
    node->in_shape = x.shape();
    autograd::record(node, {x}, {out});
  }
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor s = dims.empty() ? g : sum(g, dims, true);
  return reshape(s, shape);
}

}  // namespace tttlm::ops
