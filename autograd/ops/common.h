// Helpers every op uses at its boundary: operand checks whose messages name the op and every operand,
// and the translation from Tensor to the plain descriptions that kernels take.
#pragma once

#include <initializer_list>
#include <string>

#include "core/tensor.h"
#include "kernels/strided.h"

namespace tttlm::ops {

kernels::StridedDesc desc_of(const Tensor& t);

// "a: f32 (2, 3) on cpu, b: f32 (3) on cpu"
std::string describe_operands(std::initializer_list<std::pair<const char*, const Tensor*>> operands);

// Throws InvalidArgument "[op] operands must be on one device; got a: ..., b: ..." (likewise dtype).
void check_same_device(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> operands);
void check_same_dtype(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> operands);
void check_float(const char* op, const char* name, const Tensor& t);
void check_defined(const char* op, const char* name, const Tensor& t);

}  // namespace tttlm::ops
