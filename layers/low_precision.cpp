#include "layers/low_precision.h"

#include "autograd/engine.h"
#include "autograd/ops/copy.h"

namespace tttlm::layers {

namespace {
void refresh_one(Parameter& p) {
  autograd::NoGradGuard ng;
  TTT_CHECK(p.value.defined(), "[bf16] parameter ", p.name, " is not materialised");
  p.value_bf16 = ops::cast(p.value.detach(), Dtype::bf16).detach();
}
}  // namespace

void set_bf16_copies(const std::vector<Parameter*>& params, bool on) {
  for (Parameter* p : params) {
    if (!p->matmul_weight) continue;
    if (on)
      refresh_one(*p);
    else
      p->value_bf16 = Tensor();
  }
}

void refresh_bf16_copies(const std::vector<Parameter*>& params) {
  for (Parameter* p : params)
    if (p->value_bf16.defined()) refresh_one(*p);
}

}  // namespace tttlm::layers
