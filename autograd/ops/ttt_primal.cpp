// The TTT primal form (docs/spec/ttt.md §3.7 "Primal"), the reference of the fused op for every inner model:
// checks, then kernels::cpu::ttt_primal_forward. CPU only, forward only.
#include <string>

#include "autograd/ops/ttt.h"
#include "autograd/ops/ttt_operands.h"
#include "kernels/ttt.h"

namespace tttlm::ops {

using namespace ttt_detail;

Tensor ttt_primal(const TttSequenceInputs& seq, const TttInner& inner, const TttOptions& options) {
  const std::string name = op_name(inner.model, "_primal");
  const char* op = name.c_str();
  const TttOperands in = operands_of(seq, inner.params);
  const kernels::TttDims dims = check_sequence(op, inner.model, in, options);
  TTT_CHECK(in[kXq].device().is_cpu(), "[", op, "] runs on the CPU only, got xq: ", in[kXq].describe());
  check_no_grad(op, in);
  const TttOperands c = contiguous_all(in);
  Tensor out = Tensor::empty(c[kXq].shape(), c[kXq].dtype());
  kernels::cpu::ttt_primal_forward(c[kXq].dtype(), dims, sequence_of(c), inner_params_of(c), out.data_ptr());
  return out;
}

}  // namespace tttlm::ops
