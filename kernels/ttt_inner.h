// The inner models of the TTT layer, from the runtime enum (kernels::InnerModel) to its traits type: the one
// place that lists them. Each traits type (kernels/ttt_dual_<model>.h; docs/adding_an_op.md, "Adding a third
// inner model") describes its parameters (kNumParams, param(i)), its per-mini-batch cache and scratch
// (Cache/Step/Scratch and their carve_*), the dual-form forward and backward of one mini-batch, and the
// primal-form token step; the drivers (kernels/ttt_dual_head.h), the CPU and CUDA kernels and the op are
// written once over them.
#pragma once

#include <string>

#include "core/error.h"
#include "kernels/ttt.h"
#include "kernels/ttt_dual_head.h"
#include "kernels/ttt_dual_linear.h"
#include "kernels/ttt_dual_mlp.h"

namespace tttlm::kernels {

// f(Inner{}) for the traits type of `model`.
template <class F>
decltype(auto) with_inner_model(InnerModel model, F&& f) {
  switch (model) {
    case InnerModel::linear:
      return f(ttt_dual::LinearInner{});
    case InnerModel::mlp:
      return f(ttt_dual::MlpInner{});
  }
  throw InvalidArgument("unknown TTT inner model " + std::to_string(static_cast<int>(model)));
}

}  // namespace tttlm::kernels
