// The TTT inner loop (docs/spec/ttt.md §3.5-§3.12) as fused kernels for every inner model (TttDims::inner:
// TTT-Linear, TTT-MLP), every (b, h) independent, mini-batches in sequence (dual form, §3.7), backward
// through the whole loop including the derivative of the LN-vjp and of the hand-written gelu' (§3.12). The
// per-(b, h) math lives once, in kernels/ttt_dual*.h; the CPU runs it serially per (b, h) under OpenMP, CUDA
// as one block per (b, h). Inner parameter gradients are summed per (b, h), then over b (and h for token_eta)
// in a fixed order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {

// The inner models f_res (docs/spec/ttt.md §3.4, §4). Each has one traits type (kernels/ttt_dual_<name>.h)
// that the generic drivers, kernels and op are templated on; kernels/ttt_inner.h maps this enum to it.
enum class InnerModel : uint8_t { linear, mlp };

// Sizes and options. Every pointer below is to a contiguous tensor of one float dtype:
//   xq, xk, xv, out, dout and their grads: (B, H, T, D)      ttt_lr: (B, H, T)      token_eta: (mini_batch)
//   ln_weight, ln_bias: (H, D)
// Mini-batch c covers tokens [c·mini_batch, min(T, (c+1)·mini_batch)); a short last one of r tokens uses
// token_eta[0..r). eta_ij = token_eta[i]·ttt_lr[t0 + j] for j <= i (inclusive tril).
struct TttDims {
  InnerModel inner = InnerModel::linear;
  int64_t batch = 0, heads = 0, seq = 0, dim = 0;  // B, H, T, D
  int64_t hidden = 0;  // hidden width I of an inner model that has one (MLP: 4D in the paper), else 0
  int64_t mini_batch = 16;
  int64_t snapshot_every = 4;  // keep the state at every k-th mini-batch start for backward
  bool layer_norm = true;      // false: LN is the identity
  bool residual = true;        // false: target V (not V - K) and output f_res(q) (no + q)

  int64_t num_mini_batches() const { return seq == 0 ? 0 : (seq + mini_batch - 1) / mini_batch; }
  int64_t num_snapshots() const { return (num_mini_batches() + snapshot_every - 1) / snapshot_every; }
};

struct TttSequence {
  const void* xq = nullptr;         // (B, H, T, D) test view
  const void* xk = nullptr;         // (B, H, T, D) training view
  const void* xv = nullptr;         // (B, H, T, D) label view
  const void* token_eta = nullptr;  // (mini_batch) tau_i, already max(0, 1/(i+1) + l_i)
  const void* ttt_lr = nullptr;     // (B, H, T) the column factor of eta
  const void* ln_weight = nullptr;  // (H, D)
  const void* ln_bias = nullptr;    // (H, D)
};
// Gradients of TttSequence's tensors, same shapes; all overwritten.
struct TttSequenceGrads {
  void* dxq = nullptr;
  void* dxk = nullptr;
  void* dxv = nullptr;
  void* dtoken_eta = nullptr;
  void* dttt_lr = nullptr;
  void* dln_weight = nullptr;
  void* dln_bias = nullptr;
};

// The inner model's parameter tensors, in the order its traits type lists them (kernels/ttt_inner.h:
// Inner::param(i), e.g. W0 (H, D, D), b0 (H, D) for the linear model), each (H, ...) contiguous. The
// per-(b, h) inner state is their per-head slices concatenated in that order.
constexpr int kMaxInnerParams = 4;
struct TttInnerParams {
  const void* p[kMaxInnerParams] = {};
};
// Their gradients, same shapes; overwritten.
struct TttInnerGrads {
  void* p[kMaxInnerParams] = {};
};

// Decoding state (docs/spec/ttt.md §3.11), per (b, h): the inner state at the start of the current mini-batch
// (one (B, H, ...) tensor per inner parameter) and the accumulated eta-column-scaled gradients, same shapes.
struct TttDecodeBuffers {
  void* state[kMaxInnerParams] = {};
  void* grad[kMaxInnerParams] = {};
};

}  // namespace tttlm::kernels

// Forward writes out (B, H, T, D) and, when `snapshots` is not null, the inner state at the start of
// every snapshot_every-th mini-batch: (B, H, num_snapshots, state_size). Backward reads the same
// snapshots (the first one is the initial state, so it needs no parameters), recomputes each group of
// mini-batches from its kept state and overwrites every gradient.
// Snapshots are in the compute dtype: f32 when the tensors are bf16 (CUDA), otherwise their own dtype.
TTT_KERNEL(ttt_forward, (Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttInnerParams& params,
                         void* out, void* snapshots));
TTT_KERNEL(ttt_backward, (Dtype dtype, const TttDims& dims, const TttSequence& seq, const void* snapshots,
                          const void* dout, const TttSequenceGrads& grads, const TttInnerGrads& param_grads));

// CPU only: the primal form and decoding.
namespace tttlm::kernels::cpu {
// Primal form (§3.7 "Primal"), the reference: token by token, the per-token state
// W_i = W - tau_i·Σ_{j<=i} ttt_lr_j·k_jᵀg_j. Forward only; writes out (B, H, T, D).
void ttt_primal_forward(Dtype dtype, const TttDims& dims, const TttSequence& seq, const TttInnerParams& params,
                        void* out);

// One decoding step (§3.11) for every (b, h): `token` holds one token per (b, h) (dims.seq = 1: xq, xk, xv
// (B, H, D), ttt_lr (B, H)); `offset` = position mod mini_batch picks tau. Updates the buffers in place
// (at offset mini_batch - 1 the state moves on and the accumulators are zeroed); writes out (B, H, D).
void ttt_decode_step(Dtype dtype, const TttDims& dims, const TttSequence& token, int64_t offset,
                     const TttDecodeBuffers& state, void* out);
}  // namespace tttlm::kernels::cpu
