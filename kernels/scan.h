// Mamba-1 selective scan (docs/spec/mamba.md §3 steps 5-7, §4-§6) on row-major (B, T, Di) activations:
//   Δ_t = softplus(δ_raw_t + β) (threshold 20),  h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t B_t u_t,  h_{-1} = 0,
//   y_t = C_t · h_t + D u_t,  out_t = y_t ⊙ silu(z_t).
// All scan arithmetic runs in the compute dtype (f32 for f32 and bf16 activations, f64 for f64). Forward
// keeps only the state at the end of every `chunk` steps; backward recomputes each chunk's states from the
// previous checkpoint and runs the adjoint recurrence of §5 in reverse, so memory is O(T/chunk) states.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/declare.h"

namespace tttlm::kernels {

// Dimension letters: B batch, T steps, Di channels (d_inner), N states (d_state).
struct ScanDims {
  int64_t batch = 0, steps = 0, channels = 0, states = 0;
  int64_t chunk = 2048;  // checkpoint interval, >= 1
  int64_t n_chunks() const { return (steps + chunk - 1) / chunk; }
};

// Scan operands, all contiguous. Activations (dtype): u, delta_raw, z (B, T, Di); Bm, Cm (B, T, N).
// Parameters (compute dtype): A (Di, N) (already −exp(A_log)), D and delta_bias (Di).
// The decoding step uses the same struct with T = 1: u, delta_raw, z (B, Di); Bm, Cm (B, N).
struct ScanInputs {
  const void *u = nullptr, *delta_raw = nullptr, *A = nullptr, *Bm = nullptr, *Cm = nullptr, *D = nullptr,
             *delta_bias = nullptr, *z = nullptr;
};

// Gradients, overwritten, each shaped and typed like its operand in ScanInputs.
struct ScanGrads {
  void *du = nullptr, *ddelta_raw = nullptr, *dA = nullptr, *dBm = nullptr, *dCm = nullptr, *dD = nullptr,
       *ddelta_bias = nullptr, *dz = nullptr;
};

// f32 for f32 and bf16 activations, f64 for f64: the dtype of A, D, delta_bias, their gradients, the
// checkpoints and the decoding state.
inline Dtype scan_compute_dtype(Dtype activations) { return activations == Dtype::f64 ? Dtype::f64 : Dtype::f32; }

}  // namespace tttlm::kernels

// Both backends (CPU: f32, f64; CUDA: f32, bf16, f64). Results are deterministic: no atomics, every
// reduction (dA, dD, ddelta_bias over the batch; dBm, dCm over channels) runs in a fixed order.
// out (B, T, Di) in dtype; checkpoints (B, n_chunks, Di, N) in the compute dtype: checkpoints[b, k] = h at
// the last step of chunk k (so checkpoints[b, n_chunks - 1] = h_{T-1}, the decoding state).
TTT_KERNEL(selective_scan_forward,
           (Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* out, void* checkpoints));
// From the forward's inputs and checkpoints (same dims, same chunk) and dout (B, T, Di), writes every
// gradient of `grads` (all pointers non-null).
TTT_KERNEL(selective_scan_backward, (Dtype dtype, const ScanDims& dims, const ScanInputs& in, const void* checkpoints,
                                     const void* dout, const ScanGrads& grads));
// One decoding step (dims.steps and dims.chunk ignored): state (B, Di, N), compute dtype, updated in place
// from h_{t-1} to h_t; out (B, Di) in dtype. Same arithmetic as one forward step.
TTT_KERNEL(selective_scan_step, (Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* state, void* out));
