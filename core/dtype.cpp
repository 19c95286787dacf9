#include "core/dtype.h"

#include "core/error.h"

namespace tttlm {

Dtype dtype_from_name(const std::string& name) {
  for (Dtype d : {Dtype::f32, Dtype::bf16, Dtype::f64, Dtype::i32, Dtype::i64, Dtype::u16})
    if (name == dtype_name(d)) return d;
  throw InvalidArgument("unknown dtype \"" + name + "\"; expected one of f32, bf16, f64, i32, i64, u16");
}

}  // namespace tttlm
