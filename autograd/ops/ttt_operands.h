// The operands of the TTT ops (autograd/ops/ttt.h) in one list, and their checks, shared by the sequence op
// (ttt.cpp), the primal form (ttt_primal.cpp) and decoding (ttt_decode.cpp). Internal to those files.
#pragma once

#include <string>
#include <vector>

#include "autograd/ops/ttt.h"
#include "kernels/ttt.h"
#include "kernels/ttt_dual.h"

namespace tttlm::ops::ttt_detail {

// The operands of one call in the op's order, which is also the order of the autograd inputs and their
// gradients: xq, xk, xv, token_eta, ttt_lr, the inner parameters, ln_weight, ln_bias.
using TttOperands = std::vector<Tensor>;
constexpr size_t kXq = 0, kXk = 1, kXv = 2, kEta = 3, kLr = 4, kInner = 5;

TttOperands operands_of(const TttSequenceInputs& seq, const std::vector<Tensor>& params);

// "(H, D, I)": an inner parameter's shape in letters.
std::string letters_of(const kernels::ttt_dual::ParamSpec& p);

// The op's name for the inner model ("ttt_linear"), with a suffix ("_primal").
std::string op_name(InnerModel model, const char* suffix = "");

// The operands' names, those of the inner parameters from the model's traits; and "xq: f64 (2, 2, 16, 4),
// xk: ..." for error messages.
std::vector<std::string> operand_names(InnerModel model);
std::string describe(const std::vector<std::string>& names, const TttOperands& in);

void check_shape(const char* op, const char* name, const Tensor& t, const std::string& letters, const Shape& want,
                 const std::string& all);

// Validates a sequence call and returns its sizes (inner model, snapshot and options fields set).
kernels::TttDims check_sequence(const char* op, InnerModel model, const TttOperands& in, const TttOptions& o);

// The hidden width I of the inner parameters `params` ((H, ...) each, or (B, H, ...) with lead = 1): the size
// of the first axis I among them, 0 when the model has none or the tensor's rank is off.
int64_t hidden_of(InnerModel model, const std::vector<Tensor>& params, int lead);

// Elements of one (b, h)'s inner state.
int64_t state_size(const kernels::TttDims& dims);

void check_no_grad(const char* op, const TttOperands& in);

// Contiguous detached copies (the kernels' operands).
TttOperands contiguous_all(const TttOperands& in);

kernels::TttSequence sequence_of(const TttOperands& c);
kernels::TttInnerParams inner_params_of(const TttOperands& c);

}  // namespace tttlm::ops::ttt_detail
