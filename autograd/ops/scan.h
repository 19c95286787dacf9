// Mamba-1 selective scan as one differentiable op (docs/spec/mamba.md §3 steps 5-7, §4, §5), its recurrent
// decoding step (§6), and the definition as a plain f64 loop (the test oracle). Activations are row-major
// (B, T, Di) as everywhere in tttlm; the kernels behind it are kernels/scan.h.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace tttlm::ops {

// out (B, T, Di) = y ⊙ silu(z), where for each batch row, channel c and state n:
//   Δ_t = softplus(delta_raw_t + delta_bias)  (PyTorch's threshold: the identity above 20),
//   h_t = exp(Δ_t A[c, n]) h_{t-1} + Δ_t Bm_t[n] u_t,  h_{-1} = 0,   y_t = Σ_n Cm_t[n] h_t + D u_t.
// Operands: u, delta_raw, z (B, T, Di) and Bm, Cm (B, T, N) in one float dtype (CPU: f32, f64; CUDA: f32,
// bf16, f64); A (Di, N) (already −exp(A_log)), D and delta_bias (Di) in the compute dtype: f32 for f32 or
// bf16 activations, f64 for f64. Any strides (non-contiguous operands are copied once).
// Differentiable in all eight operands. Saved for backward: the operands and the state at the end of every
// `chunk` steps, (B, ceil(T / chunk), Di, N) in the compute dtype; backward recomputes one chunk at a
// time. On the CPU, outputs and gradients are bitwise identical for every chunk size and thread count.
Tensor selective_scan(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm, const Tensor& Cm,
                      const Tensor& D, const Tensor& delta_bias, const Tensor& z, int64_t chunk = 2048);

struct ScanResult {
  Tensor out;         // (B, T, Di)
  Tensor last_state;  // (B, Di, N) h_{T-1} in the compute dtype (zeros when T = 0); carries no gradient
};

// selective_scan plus the final state, the decoding state after a prefill (spec §6). last_state is a copy
// that the decoding step may update in place.
ScanResult selective_scan_with_state(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm,
                                     const Tensor& Cm, const Tensor& D, const Tensor& delta_bias, const Tensor& z,
                                     int64_t chunk = 2048);

// One decoding step (spec §6): state (B, Di, N), contiguous, in the compute dtype, updated in place from
// h_{t-1} to h_t; u, delta_raw, z (B, Di) and Bm, Cm (B, N) in the activation dtype; A, D, delta_bias as
// above. Returns out (B, Di) = y_t ⊙ silu(z_t), the same arithmetic as one step of selective_scan.
// Not differentiable: throws when grad mode is on and an operand requires grad (decode under NoGradGuard).
Tensor selective_scan_step(const Tensor& state, const Tensor& u, const Tensor& delta_raw, const Tensor& z,
                           const Tensor& Bm, const Tensor& Cm, const Tensor& A, const Tensor& D,
                           const Tensor& delta_bias);

// The definition as a sequential loop in double over CPU operands (checked as for selective_scan), with
// f64 results and no gradient. There are no exp/softplus ops to compose it from, so it is a loop; tests
// check the fused op's gradients against central differences of this function.
ScanResult selective_scan_reference(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm,
                                    const Tensor& Cm, const Tensor& D, const Tensor& delta_bias, const Tensor& z);

}  // namespace tttlm::ops
