#include "autograd/ops/scan.h"

#include <cmath>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops/common.h"
#include "autograd/ops/copy.h"
#include "core/view.h"
#include "kernels/dispatch.h"
#include "kernels/scan.h"

namespace tttlm::ops {

namespace {

// The eight operands of a scan, in the order of the public signature (also the gradients' order).
struct Operands {
  Tensor u, delta_raw, A, Bm, Cm, D, delta_bias, z;
  std::vector<Tensor> list() const { return {u, delta_raw, A, Bm, Cm, D, delta_bias, z}; }
  kernels::ScanInputs inputs() const {
    return {u.data_ptr(),  delta_raw.data_ptr(), A.data_ptr(),          Bm.data_ptr(),
            Cm.data_ptr(), D.data_ptr(),         delta_bias.data_ptr(), z.data_ptr()};
  }
};

std::string describe(const Operands& o, const Tensor* state = nullptr) {
  std::string s = describe_operands({{"u", &o.u},
                                     {"delta_raw", &o.delta_raw},
                                     {"A", &o.A},
                                     {"Bm", &o.Bm},
                                     {"Cm", &o.Cm},
                                     {"D", &o.D},
                                     {"delta_bias", &o.delta_bias},
                                     {"z", &o.z}});
  return state ? "state: " + state->describe() + ", " + s : s;
}

// Defined, one device, activations in one float dtype and parameters in its compute dtype.
void check_common(const char* op, const Operands& o, const Tensor* state = nullptr) {
  const char* names[] = {"u", "delta_raw", "A", "Bm", "Cm", "D", "delta_bias", "z"};
  auto list = o.list();
  for (size_t i = 0; i < list.size(); ++i) check_defined(op, names[i], list[i]);
  check_same_device(op, {{"u", &o.u},
                         {"delta_raw", &o.delta_raw},
                         {"A", &o.A},
                         {"Bm", &o.Bm},
                         {"Cm", &o.Cm},
                         {"D", &o.D},
                         {"delta_bias", &o.delta_bias},
                         {"z", &o.z}});
  const Dtype x = o.u.dtype();
  TTT_CHECK(dtype_is_float(x), "[", op, "] u must be a floating tensor; got ", describe(o, state));
  for (const Tensor* t : {&o.delta_raw, &o.z, &o.Bm, &o.Cm})
    TTT_CHECK(t->dtype() == x, "[", op, "] u, delta_raw, z, Bm and Cm must share one dtype; got ", describe(o, state));
  const Dtype p = kernels::scan_compute_dtype(x);
  for (const Tensor* t : {&o.A, &o.D, &o.delta_bias})
    TTT_CHECK(t->dtype() == p, "[", op, "] A, D and delta_bias must be ", dtype_name(p),
              " (the scan's compute dtype for ", dtype_name(x), " activations); got ", describe(o, state));
}

// Shapes of the sequence form; returns the dims (chunk included).
kernels::ScanDims check_sequence(const char* op, const Operands& o, int64_t chunk) {
  check_common(op, o);
  TTT_CHECK(o.u.ndim() == 3, "[", op, "] u must have shape (B, T, Di); got ", describe(o));
  const int64_t B = o.u.size(0), T = o.u.size(1), Di = o.u.size(2);
  TTT_CHECK(o.delta_raw.shape() == o.u.shape() && o.z.shape() == o.u.shape(), "[", op,
            "] delta_raw and z must have u's shape (B, T, Di) = ", shape_str(o.u.shape()), "; got ", describe(o));
  TTT_CHECK(o.Bm.ndim() == 3 && o.Bm.size(0) == B && o.Bm.size(1) == T && o.Cm.shape() == o.Bm.shape(), "[", op,
            "] Bm and Cm must both have shape (B, T, N) with (B, T) = (", B, ", ", T, ") from u; got ", describe(o));
  const int64_t N = o.Bm.size(2);
  TTT_CHECK((o.A.shape() == Shape{Di, N}), "[", op, "] A must have shape (Di, N) = (", Di, ", ", N, "); got ",
            describe(o));
  TTT_CHECK((o.D.shape() == Shape{Di} && o.delta_bias.shape() == Shape{Di}), "[", op,
            "] D and delta_bias must have shape (Di) = (", Di, "); got ", describe(o));
  TTT_CHECK(chunk >= 1, "[", op, "] chunk must be >= 1; got ", chunk);
  kernels::ScanDims d;
  d.batch = B;
  d.steps = T;
  d.channels = Di;
  d.states = N;
  d.chunk = chunk;
  return d;
}

Operands contiguous_operands(const Operands& o) {
  return {contiguous(o.u),  contiguous(o.delta_raw), contiguous(o.A),          contiguous(o.Bm),
          contiguous(o.Cm), contiguous(o.D),         contiguous(o.delta_bias), contiguous(o.z)};
}

Operands detached(const Operands& o) {
  return {o.u.detach(),  o.delta_raw.detach(), o.A.detach(),          o.Bm.detach(),
          o.Cm.detach(), o.D.detach(),         o.delta_bias.detach(), o.z.detach()};
}

struct SelectiveScanBackward final : autograd::Node {
  Operands saved;      // contiguous, detached
  Tensor checkpoints;  // (B, n_chunks, Di, N), compute dtype
  kernels::ScanDims dims;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grad_or_zeros(grads, 0)).detach();  // (B, T, Di)
    const Operands& s = saved;
    const Device dev = s.u.device();
    Operands d{Tensor::empty(s.u.shape(), s.u.dtype(), dev),   Tensor::empty(s.u.shape(), s.u.dtype(), dev),
               Tensor::empty(s.A.shape(), s.A.dtype(), dev),   Tensor::empty(s.Bm.shape(), s.Bm.dtype(), dev),
               Tensor::empty(s.Cm.shape(), s.Cm.dtype(), dev), Tensor::empty(s.D.shape(), s.D.dtype(), dev),
               Tensor::empty(s.D.shape(), s.D.dtype(), dev),   Tensor::empty(s.u.shape(), s.u.dtype(), dev)};
    kernels::ScanGrads out{d.u.data_ptr(),  d.delta_raw.data_ptr(), d.A.data_ptr(),          d.Bm.data_ptr(),
                           d.Cm.data_ptr(), d.D.data_ptr(),         d.delta_bias.data_ptr(), d.z.data_ptr()};
    TTT_DISPATCH(dev, selective_scan_backward, s.u.dtype(), dims, s.inputs(), checkpoints.data_ptr(), g.data_ptr(),
                 out);
    std::vector<Tensor> result = d.list();
    for (size_t i = 0; i < result.size(); ++i)
      if (!needs_input_grad(i)) result[i] = Tensor();
    return result;
  }
  std::string name() const override { return "SelectiveScanBackward"; }
};

ScanResult scan(const char* op, const Operands& given, int64_t chunk) {
  kernels::ScanDims dims = check_sequence(op, given, chunk);
  const Operands o = contiguous_operands(given);
  const Device dev = o.u.device();
  const Dtype pdtype = o.A.dtype();
  Tensor out = Tensor::empty(o.u.shape(), o.u.dtype(), dev);
  Tensor ckpt = Tensor::empty({dims.batch, dims.n_chunks(), dims.channels, dims.states}, pdtype, dev);
  const Operands raw = detached(o);
  TTT_DISPATCH(dev, selective_scan_forward, o.u.dtype(), dims, raw.inputs(), out.data_ptr(), ckpt.data_ptr());
  ScanResult r;
  r.out = out;
  r.last_state = dims.steps > 0 ? clone(view::select(ckpt, 1, dims.n_chunks() - 1))
                                : Tensor::zeros({dims.batch, dims.channels, dims.states}, pdtype, dev);
  if (autograd::any_requires_grad(o.list())) {
    auto node = std::make_shared<SelectiveScanBackward>();
    node->saved = raw;
    node->checkpoints = ckpt;
    node->dims = dims;
    autograd::record(node, o.list(), {out});
  }
  return r;
}

}  // namespace

Tensor selective_scan(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm, const Tensor& Cm,
                      const Tensor& D, const Tensor& delta_bias, const Tensor& z, int64_t chunk) {
  return scan("selective_scan", {u, delta_raw, A, Bm, Cm, D, delta_bias, z}, chunk).out;
}

ScanResult selective_scan_with_state(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm,
                                     const Tensor& Cm, const Tensor& D, const Tensor& delta_bias, const Tensor& z,
                                     int64_t chunk) {
  return scan("selective_scan_with_state", {u, delta_raw, A, Bm, Cm, D, delta_bias, z}, chunk);
}

Tensor selective_scan_step(const Tensor& state, const Tensor& u, const Tensor& delta_raw, const Tensor& z,
                           const Tensor& Bm, const Tensor& Cm, const Tensor& A, const Tensor& D,
                           const Tensor& delta_bias) {
  const char* op = "selective_scan_step";
  const Operands o{u, delta_raw, A, Bm, Cm, D, delta_bias, z};
  check_defined(op, "state", state);
  check_common(op, o, &state);
  TTT_CHECK(state.device() == u.device(), "[", op, "] operands must be on one device; got ", describe(o, &state));
  TTT_CHECK(u.ndim() == 2, "[", op, "] u must have shape (B, Di); got ", describe(o, &state));
  const int64_t B = u.size(0), Di = u.size(1);
  TTT_CHECK(delta_raw.shape() == u.shape() && z.shape() == u.shape(), "[", op,
            "] delta_raw and z must have u's shape (B, Di) = ", shape_str(u.shape()), "; got ", describe(o, &state));
  TTT_CHECK(Bm.ndim() == 2 && Bm.size(0) == B && Cm.shape() == Bm.shape(), "[", op,
            "] Bm and Cm must both have shape (B, N) with B = ", B, " from u; got ", describe(o, &state));
  const int64_t N = Bm.size(1);
  TTT_CHECK((A.shape() == Shape{Di, N}), "[", op, "] A must have shape (Di, N) = (", Di, ", ", N, "); got ",
            describe(o, &state));
  TTT_CHECK((D.shape() == Shape{Di} && delta_bias.shape() == Shape{Di}), "[", op,
            "] D and delta_bias must have shape (Di) = (", Di, "); got ", describe(o, &state));
  TTT_CHECK((state.shape() == Shape{B, Di, N}) && state.dtype() == A.dtype() && state.is_contiguous(), "[", op,
            "] state must be a contiguous ", dtype_name(A.dtype()), " tensor of shape (B, Di, N) = (", B, ", ", Di,
            ", ", N, "); got ", describe(o, &state));
  TTT_CHECK(!autograd::any_requires_grad(o.list()), "[", op,
            "] is not differentiable (a decoding step); run it under autograd::NoGradGuard");
  const Operands c = detached(contiguous_operands(o));
  kernels::ScanDims dims;
  dims.batch = B;
  dims.steps = 1;
  dims.channels = Di;
  dims.states = N;
  dims.chunk = 1;
  Tensor out = Tensor::empty({B, Di}, u.dtype(), u.device());
  TTT_DISPATCH(u.device(), selective_scan_step, u.dtype(), dims, c.inputs(), state.data_ptr(), out.data_ptr());
  return out;
}

ScanResult selective_scan_reference(const Tensor& u, const Tensor& delta_raw, const Tensor& A, const Tensor& Bm,
                                    const Tensor& Cm, const Tensor& D, const Tensor& delta_bias, const Tensor& z) {
  const char* op = "selective_scan_reference";
  const Operands o{u, delta_raw, A, Bm, Cm, D, delta_bias, z};
  const kernels::ScanDims d = check_sequence(op, o, 1);
  TTT_CHECK(u.device().is_cpu(), "[", op, "] operands must be on the CPU; got ", describe(o));
  const int64_t B = d.batch, T = d.steps, Di = d.channels, N = d.states;
  auto U = u.to_vector<double>(), S = delta_raw.to_vector<double>(), Av = A.to_vector<double>();
  auto Bv = Bm.to_vector<double>(), Cv = Cm.to_vector<double>(), Dv = D.to_vector<double>();
  auto bias = delta_bias.to_vector<double>(), Z = z.to_vector<double>();
  std::vector<double> out(B * T * Di), h(B * Di * N, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < Di; ++c) {
        const int64_t i = (b * T + t) * Di + c;
        const double s = S[i] + bias[c];
        const double delta = s > 20 ? s : std::log1p(std::exp(s));
        double y = Dv[c] * U[i];
        for (int64_t n = 0; n < N; ++n) {
          double& hn = h[(b * Di + c) * N + n];
          hn = std::exp(delta * Av[c * N + n]) * hn + delta * Bv[(b * T + t) * N + n] * U[i];
          y += Cv[(b * T + t) * N + n] * hn;
        }
        out[i] = y * Z[i] / (1 + std::exp(-Z[i]));
      }
  return {Tensor::from_vector(out, {B, T, Di}), Tensor::from_vector(h, {B, Di, N})};
}

}  // namespace tttlm::ops
