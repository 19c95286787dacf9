#include "autograd/ops/matmul.h"

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/view.h"
#include "core/view.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"

namespace tttlm::ops {

namespace {

// How a (batch..., rows, cols) view is handed to the GEMM.
struct Operand {
  Tensor t;  // possibly a contiguous copy
  bool trans = false;
  int64_t ld = 0, batch_stride = 0;
};

// Do the batch dims collapse to one stride? Size-1 dims carry no offset and are skipped: the stride is
// that of the innermost batch dim of size > 1 (a size-1 innermost dim, e.g. a narrow of length 1, keeps
// its parent's stride, which is not the step between batches).
bool batch_collapsible(const Tensor& t, int64_t& stride) {
  stride = 0;
  int64_t inner = -1;  // the last batch dim of size > 1 seen so far, walking outwards
  for (int64_t i = t.ndim() - 3; i >= 0; --i) {
    if (t.shape()[i] == 1) continue;
    if (inner < 0) {
      stride = t.strides()[i];
    } else if (t.strides()[i] != t.strides()[inner] * t.shape()[inner]) {
      return false;
    }
    inner = i;
  }
  return true;
}

Operand prepare(const Tensor& x) {
  Operand op;
  int64_t r = x.ndim() - 2, c = x.ndim() - 1;
  int64_t bs = 0;
  bool bok = batch_collapsible(x, bs);
  if (bok && x.strides()[c] == 1 && x.strides()[r] >= std::max<int64_t>(x.shape()[c], 1)) {
    op.t = x;
    op.ld = x.strides()[r];
  } else if (bok && x.strides()[r] == 1 && x.strides()[c] >= std::max<int64_t>(x.shape()[r], 1)) {
    op.t = x;
    op.trans = true;
    op.ld = x.strides()[c];
  } else {
    op.t = contiguous(x).detach();
    batch_collapsible(op.t, bs);
    op.ld = std::max<int64_t>(x.shape()[c], 1);
  }
  op.batch_stride = bs;
  return op;
}

}  // namespace

namespace detail {
Tensor gemm_raw(const Tensor& a, const Tensor& b, bool c_f32) {
  // a (B..., M, K), b (B..., K, N) with equal batch shapes, or b 2-D.
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Shape out_shape(a.shape().begin(), a.shape().end() - 2);
  if (b.ndim() > 2 && a.ndim() == 2) out_shape.assign(b.shape().begin(), b.shape().end() - 2);
  int64_t batch = shape_numel(out_shape);
  out_shape.push_back(M);
  out_shape.push_back(N);
  const Dtype out_dtype = c_f32 ? Dtype::f32 : a.dtype();
  Tensor out = Tensor::empty(out_shape, out_dtype, a.device());
  Operand A = prepare(a), B = prepare(b);
  kernels::GemmArgs g;
  g.trans_a = A.trans;
  g.trans_b = B.trans;
  g.m = M;
  g.n = N;
  g.k = K;
  g.a = A.t.data_ptr();
  g.lda = A.ld;
  g.stride_a = a.ndim() == 2 ? 0 : A.batch_stride;
  g.b = B.t.data_ptr();
  g.ldb = B.ld;
  g.stride_b = b.ndim() == 2 ? 0 : B.batch_stride;
  g.c = out.data_ptr();
  g.ldc = N;
  g.stride_c = M * N;
  g.batch = batch;
  g.c_f32 = c_f32;
  if (K == 0) return Tensor::zeros(out_shape, out_dtype, a.device());
  TTT_DISPATCH(a.device(), gemm, a.dtype(), g);
  return out;
}
}  // namespace detail

namespace {

Tensor gemm_raw(const Tensor& a, const Tensor& b) { return detail::gemm_raw(a, b, false); }

struct MatmulBackward final : autograd::Node {
  Tensor a, b;  // a (..., M, K), b (..., K, N)
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor& g = grads[0];  // (..., M, N)
    Tensor ga, gb;
    if (needs_input_grad(0)) {
      ga = matmul(g, transpose(b, -1, -2));  // (..., M, K)
      if (a.ndim() == 2 && ga.ndim() > 2)
        ga = sum(ga, [&] {
          std::vector<int64_t> d;
          for (int64_t i = 0; i < ga.ndim() - 2; ++i) d.push_back(i);
          return d;
        }());
    }
    if (needs_input_grad(1)) {
      if (b.ndim() == 2 && a.ndim() > 2) {
        // Shared weight: one GEMM over all rows, (K, rows)·(rows, N).
        Tensor a2 = reshape(a, {-1, a.size(-1)});
        Tensor g2 = reshape(g, {-1, g.size(-1)});
        gb = matmul(transpose(a2, 0, 1), g2);
      } else {
        gb = matmul(transpose(a, -1, -2), g);
        if (b.ndim() == 2 && gb.ndim() > 2) {
          std::vector<int64_t> d;
          for (int64_t i = 0; i < gb.ndim() - 2; ++i) d.push_back(i);
          gb = sum(gb, d);
        }
      }
    }
    return {ga, gb};
  }
  std::string name() const override { return "MatmulBackward"; }
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", "a", a);
  check_defined("matmul", "b", b);
  check_same_device("matmul", {{"a", &a}, {"b", &b}});
  check_same_dtype("matmul", {{"a", &a}, {"b", &b}});
  check_float("matmul", "a", a);
  TTT_CHECK(a.ndim() >= 2 && b.ndim() >= 2, "[matmul] operands need at least 2 dimensions; got ",
            describe_operands({{"a", &a}, {"b", &b}}));
  TTT_CHECK(a.size(-1) == b.size(-2), "[matmul] inner dimensions differ: a ", shape_str(a.shape()), " and b ",
            shape_str(b.shape()));
  bool batch_ok = a.ndim() == 2 || b.ndim() == 2 ||
                  Shape(a.shape().begin(), a.shape().end() - 2) == Shape(b.shape().begin(), b.shape().end() - 2);
  TTT_CHECK(batch_ok, "[matmul] batch dimensions must match or one operand must be 2-D; got a ", shape_str(a.shape()),
            " and b ", shape_str(b.shape()));
  Tensor out;
  if (b.ndim() == 2 && a.ndim() > 2) {
    // Fold a's batch into rows when that is a free view.
    Tensor ac = a.is_contiguous() ? a : contiguous(a.detach());
    Tensor a2 = view::reshape(ac.detach(), {-1, a.size(-1)});
    Tensor o2 = gemm_raw(a2, b.detach());
    Shape s = a.shape();
    s.back() = b.size(-1);
    out = view::reshape(o2, s);
  } else {
    out = gemm_raw(a.detach(), b.detach());
  }
  if (autograd::any_requires_grad({a, b})) {
    auto node = std::make_shared<MatmulBackward>();
    node->a = a.detach();
    node->b = b.detach();
    autograd::record(node, {a, b}, {out});
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight) {
  TTT_CHECK(weight.ndim() == 2 && x.ndim() >= 1 && x.size(-1) == weight.size(0), "[linear] x ", shape_str(x.shape()),
            " needs a weight of shape (", x.ndim() ? x.size(-1) : 0, ", out), got ", shape_str(weight.shape()));
  if (x.ndim() == 1) return reshape(matmul(reshape(x, {1, x.size(0)}), weight), {weight.size(1)});
  return matmul(x, weight);
}

}  // namespace tttlm::ops
