// CPU selective scan (contract in kernels/scan.h). A task owns one batch row and a block of kLanes channels
// and runs t sequentially with the block's (N, kLanes) state in an L1-resident array; the inner loops run
// over the block's channels, contiguous in the (B, T, Di) layout, so they vectorise (hence fast_exp of
// kernels/fast_math.h). Determinism: forward, backward's recompute and the decoding step share one step
// formula with explicit fma, so recomputed states equal the forward's bit for bit whatever the chunk size;
// per-task partials of dA, dD, dβ (per batch row) and dB, dC (per group of channels) are reduced in index
// order.
#include "kernels/scan.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/fast_math.h"

namespace tttlm::kernels::cpu {

namespace {

constexpr int64_t kLanes = 16;  // channels per block: one AVX-512 vector of f32
constexpr int64_t kGroup = 4;   // blocks per backward task; dB/dC partials are kept per group of 64 channels

// log1p(x) for x >= 0 in the vectorised f32 loops: Cephes logf of v = 1 + x (v = m·2^k, m in
// [√½, √2), degree-8 polynomial in m − 1), plus the correction −((v − 1) − x)/v for the rounding of 1 + x.
// Every value is computed on both sides of each select so that GCC if-converts and vectorises the loop.
inline float scan_log1p(float x) {
  const float v = 1.0f + x;
  const int32_t bits = std::bit_cast<int32_t>(v);
  float k = static_cast<float>((bits >> 23) - 127);
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
  const bool big = m > 1.41421356f;
  const float m_half = 0.5f * m, k_next = k + 1.0f;
  m = big ? m_half : m;
  k = big ? k_next : k;
  const float f = m - 1.0f, f2 = f * f;
  float p = 7.0376836292e-2f;
  p = std::fma(p, f, -1.1514610310e-1f);
  p = std::fma(p, f, 1.1676998740e-1f);
  p = std::fma(p, f, -1.2420140846e-1f);
  p = std::fma(p, f, 1.4249322787e-1f);
  p = std::fma(p, f, -1.6668057665e-1f);
  p = std::fma(p, f, 2.0000714765e-1f);
  p = std::fma(p, f, -2.4999993993e-1f);
  p = std::fma(p, f, 3.3333331174e-1f);
  float y = std::fma(k, -2.12194440e-4f, p * f * f2);
  y = std::fma(-0.5f, f2, y);
  const float lg = std::fma(k, 0.693359375f, f + y);
  return lg - ((v - 1.0f) - x) / v;
}
inline double scan_log1p(double x) { return std::log1p(x); }

// PyTorch's softplus with threshold 20 (spec §3 step 5); both branches computed, see scan_log1p.
template <class scalar_t>
inline scalar_t softplus(scalar_t s) {
  const scalar_t soft = scan_log1p(fast_exp<ExpVariant::state>(s));
  return s > scalar_t(20) ? s : soft;
}
template <class scalar_t>
inline scalar_t sigmoid(scalar_t x) {
  return scalar_t(1) / (scalar_t(1) + fast_exp<ExpVariant::state>(-x));
}
template <class scalar_t>
inline scalar_t silu(scalar_t x) {
  return x * sigmoid(x);
}

// Typed operands of one call (names as in kernels/scan.h; T is the number of steps).
template <class scalar_t>
struct Scan {
  const scalar_t *u, *dr, *A, *Bm, *Cm, *D, *bias, *z;
  int64_t B, T, Di, N, chunk, n_chunks;
};

template <class scalar_t>
Scan<scalar_t> typed(const ScanDims& d, const ScanInputs& in) {
  return {static_cast<const scalar_t*>(in.u),
          static_cast<const scalar_t*>(in.delta_raw),
          static_cast<const scalar_t*>(in.A),
          static_cast<const scalar_t*>(in.Bm),
          static_cast<const scalar_t*>(in.Cm),
          static_cast<const scalar_t*>(in.D),
          static_cast<const scalar_t*>(in.delta_bias),
          static_cast<const scalar_t*>(in.z),
          d.batch,
          d.steps,
          d.channels,
          d.states,
          d.chunk,
          d.n_chunks()};
}

// The constants of one (batch row, channel block) task, zero past the last channel. Zero lanes stay
// inert: u = 0 keeps their state at 0 and dout = 0 keeps their adjoint at 0.
template <class scalar_t>
struct Block {
  int64_t b = 0, c0 = 0, width = 0;  // batch row, first channel, channels in use (<= kLanes)
  std::vector<scalar_t> At;          // (N, kLanes): A transposed
  alignas(64) scalar_t D[kLanes];
  alignas(64) scalar_t bias[kLanes];
};

template <class scalar_t>
inline void load_lanes(const scalar_t* src, int64_t width, scalar_t* dst) {
  if (width == kLanes) {
    std::memcpy(dst, src, kLanes * sizeof(scalar_t));
    return;
  }
  for (int64_t c = 0; c < kLanes; ++c) dst[c] = c < width ? src[c] : scalar_t(0);
}

template <class scalar_t>
Block<scalar_t> make_block(const Scan<scalar_t>& p, int64_t b, int64_t c0) {
  Block<scalar_t> k;
  k.b = b;
  k.c0 = c0;
  k.width = std::min(kLanes, p.Di - c0);
  k.At.assign(p.N * kLanes, scalar_t(0));
  for (int64_t c = 0; c < k.width; ++c)
    for (int64_t n = 0; n < p.N; ++n) k.At[n * kLanes + c] = p.A[(c0 + c) * p.N + n];
  load_lanes(p.D + c0, k.width, k.D);
  load_lanes(p.bias + c0, k.width, k.bias);
  return k;
}

// One step of the recurrence for a block at time t: h (N, kLanes) = h_t from h_prev = h_{t-1} (h may equal
// h_prev); writes Δ_t and the pre-gate y_t (kLanes). The only place the forward states are computed.
template <class scalar_t>
inline void block_step(const Scan<scalar_t>& p, const Block<scalar_t>& k, int64_t t, const scalar_t* h_prev,
                       scalar_t* h, scalar_t* delta, scalar_t* y) {
  const int64_t row = (k.b * p.T + t) * p.Di + k.c0;
  alignas(64) scalar_t u[kLanes], du[kLanes];
  load_lanes(p.u + row, k.width, u);
  load_lanes(p.dr + row, k.width, delta);
#pragma omp simd
  for (int64_t c = 0; c < kLanes; ++c) {
    delta[c] = softplus(delta[c] + k.bias[c]);
    du[c] = delta[c] * u[c];
    y[c] = k.D[c] * u[c];
  }
  const scalar_t* Bt = p.Bm + (k.b * p.T + t) * p.N;
  const scalar_t* Ct = p.Cm + (k.b * p.T + t) * p.N;
  for (int64_t n = 0; n < p.N; ++n) {
    const scalar_t bn = Bt[n], cn = Ct[n];
    const scalar_t* an = k.At.data() + n * kLanes;
    const scalar_t* hp = h_prev + n * kLanes;
    scalar_t* hn = h + n * kLanes;
#pragma omp simd
    for (int64_t c = 0; c < kLanes; ++c) {
      const scalar_t a = fast_exp<ExpVariant::state>(delta[c] * an[c]);
      const scalar_t hv = std::fma(a, hp[c], du[c] * bn);
      hn[c] = hv;
      y[c] = std::fma(cn, hv, y[c]);
    }
  }
}

// checkpoints (B, n_chunks, Di, N) <-> a block's state (N, kLanes).
template <class scalar_t>
void store_state(const Scan<scalar_t>& p, const Block<scalar_t>& k, int64_t chunk, const scalar_t* h, scalar_t* ckpt) {
  scalar_t* dst = ckpt + ((k.b * p.n_chunks + chunk) * p.Di + k.c0) * p.N;
  for (int64_t c = 0; c < k.width; ++c)
    for (int64_t n = 0; n < p.N; ++n) dst[c * p.N + n] = h[n * kLanes + c];
}
template <class scalar_t>
void load_state(const Scan<scalar_t>& p, const Block<scalar_t>& k, int64_t chunk, const scalar_t* ckpt, scalar_t* h) {
  const scalar_t* src = ckpt + ((k.b * p.n_chunks + chunk) * p.Di + k.c0) * p.N;
  std::fill(h, h + p.N * kLanes, scalar_t(0));
  for (int64_t c = 0; c < k.width; ++c)
    for (int64_t n = 0; n < p.N; ++n) h[n * kLanes + c] = src[c * p.N + n];
}

// sums[r] = Σ_c tile[r, c] for a (rows, kLanes) tile, as a fixed tree: each row's halves are added lane-wise
// until one lane is left. Written as whole-tile passes (not one row at a time) so that they vectorise.
// fold: scratch of rows · (kLanes - 2).
template <class scalar_t>
void sum_rows(const scalar_t* tile, int64_t rows, scalar_t* fold, scalar_t* sums) {
  static_assert(kLanes == 16);
  scalar_t* q = fold;          // (rows, 8)
  scalar_t* r = q + rows * 8;  // (rows, 4)
  scalar_t* s = r + rows * 4;  // (rows, 2)
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t i = 0; i < 8; ++i) q[n * 8 + i] = tile[n * 16 + i] + tile[n * 16 + i + 8];
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t i = 0; i < 4; ++i) r[n * 4 + i] = q[n * 8 + i] + q[n * 8 + i + 4];
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t i = 0; i < 2; ++i) s[n * 2 + i] = r[n * 4 + i] + r[n * 4 + i + 2];
  for (int64_t n = 0; n < rows; ++n) sums[n] = s[n * 2] + s[n * 2 + 1];
}

template <class scalar_t>
void forward(const Scan<scalar_t>& p, scalar_t* out, scalar_t* ckpt) {
  const int64_t n_blocks = (p.Di + kLanes - 1) / kLanes;
#pragma omp parallel for schedule(static)
  for (int64_t task = 0; task < p.B * n_blocks; ++task) {
    const Block<scalar_t> k = make_block(p, task / n_blocks, (task % n_blocks) * kLanes);
    std::vector<scalar_t> h(p.N * kLanes, scalar_t(0));
    alignas(64) scalar_t delta[kLanes], y[kLanes], z[kLanes];
    for (int64_t t = 0; t < p.T; ++t) {
      block_step(p, k, t, h.data(), h.data(), delta, y);
      const int64_t row = (k.b * p.T + t) * p.Di + k.c0;
      load_lanes(p.z + row, k.width, z);
      for (int64_t c = 0; c < k.width; ++c) out[row + c] = y[c] * silu(z[c]);
      if ((t + 1) % p.chunk == 0 || t + 1 == p.T) store_state(p, k, t / p.chunk, h.data(), ckpt);
    }
  }
}

template <class scalar_t>
struct Grads {
  scalar_t *du, *ddr, *dA, *dBm, *dCm, *dD, *dbias, *dz;
};

// Per-thread scratch of the backward: one chunk's recomputed states, Δ and y for one block.
template <class scalar_t>
struct Scratch {
  std::vector<scalar_t> hs;                // (len + 1, N, kLanes): hs[i] = h_{t0+i-1}
  std::vector<scalar_t> deltas, ys;        // (len, kLanes)
  std::vector<scalar_t> hhat, anext, dA;   // (N, kLanes): adjoint ĥ_{t+1}, a_{t+1}, dA accumulator
  std::vector<scalar_t> tile, fold, sums;  // (2N, kLanes) per-lane dB_t, dC_t terms; sum_rows scratch; (2N)
};

// Partial sums a backward task writes; reduced in index order afterwards.
template <class scalar_t>
struct Partials {
  std::vector<scalar_t> dA, dD, dbias;  // (B, Di, N), (B, Di), (B, Di)
  std::vector<scalar_t> dB, dC;         // (B, n_groups, T, N)
};

// The whole backward of one block (spec §5), chunks last to first. dB_rows, dC_rows (T, N): the group's
// partial sums, to which the blocks of a group add in block order.
template <class scalar_t>
void backward_block(const Scan<scalar_t>& p, const Block<scalar_t>& k, const scalar_t* ckpt, const scalar_t* dout,
                    const Grads<scalar_t>& g, scalar_t* dB_rows, scalar_t* dC_rows, Partials<scalar_t>& part,
                    Scratch<scalar_t>& s) {
  const int64_t NL = p.N * kLanes;
  std::fill(s.hhat.begin(), s.hhat.end(), scalar_t(0));
  std::fill(s.anext.begin(), s.anext.end(), scalar_t(0));
  std::fill(s.dA.begin(), s.dA.end(), scalar_t(0));
  alignas(64) scalar_t dD[kLanes] = {}, dbias[kLanes] = {};
  for (int64_t chunk = p.n_chunks - 1; chunk >= 0; --chunk) {
    const int64_t t0 = chunk * p.chunk, t1 = std::min(p.T, t0 + p.chunk);
    if (chunk > 0)
      load_state(p, k, chunk - 1, ckpt, s.hs.data());
    else
      std::fill(s.hs.begin(), s.hs.begin() + NL, scalar_t(0));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = t - t0;
      scalar_t* h = s.hs.data() + (i + 1) * NL;
      block_step(p, k, t, h - NL, h, s.deltas.data() + i * kLanes, s.ys.data() + i * kLanes);
    }
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const int64_t i = t - t0, row = (k.b * p.T + t) * p.Di + k.c0;
      const scalar_t* delta = s.deltas.data() + i * kLanes;
      const scalar_t* y = s.ys.data() + i * kLanes;
      const scalar_t* hprev = s.hs.data() + i * NL;
      const scalar_t* hcur = hprev + NL;
      alignas(64) scalar_t u[kLanes], z[kLanes], go[kLanes], sraw[kLanes];
      alignas(64) scalar_t gy[kLanes], du[kLanes], dud[kLanes], ddelta[kLanes], shb[kLanes], dz[kLanes];
      load_lanes(p.u + row, k.width, u);
      load_lanes(p.z + row, k.width, z);
      load_lanes(dout + row, k.width, go);
      load_lanes(p.dr + row, k.width, sraw);
#pragma omp simd
      for (int64_t c = 0; c < kLanes; ++c) {
        const scalar_t sz = sigmoid(z[c]);
        gy[c] = go[c] * z[c] * sz;
        dz[c] = go[c] * y[c] * sz * (scalar_t(1) + z[c] * (scalar_t(1) - sz));
        dD[c] += gy[c] * u[c];
        du[c] = k.D[c] * gy[c];
        dud[c] = delta[c] * u[c];
        ddelta[c] = scalar_t(0);
        shb[c] = scalar_t(0);
      }
      const scalar_t* Bt = p.Bm + (k.b * p.T + t) * p.N;
      const scalar_t* Ct = p.Cm + (k.b * p.T + t) * p.N;
      for (int64_t n = 0; n < p.N; ++n) {
        const scalar_t bn = Bt[n], cn = Ct[n];
        const scalar_t* an = k.At.data() + n * kLanes;
        const scalar_t* hp = hprev + n * kLanes;
        const scalar_t* hc = hcur + n * kLanes;
        scalar_t* hh = s.hhat.data() + n * kLanes;
        scalar_t* ax = s.anext.data() + n * kLanes;
        scalar_t* dA = s.dA.data() + n * kLanes;
        scalar_t* pb = s.tile.data() + n * kLanes;
        scalar_t* pc = pb + NL;
#pragma omp simd
        for (int64_t c = 0; c < kLanes; ++c) {
          const scalar_t a = fast_exp<ExpVariant::state>(delta[c] * an[c]);
          const scalar_t adj = std::fma(ax[c], hh[c], gy[c] * cn);  // ĥ_t = gy_t C_t + a_{t+1} ĥ_{t+1}
          hh[c] = adj;
          ax[c] = a;
          const scalar_t w = adj * (a * hp[c]);  // ĥ_t · a_t h_{t-1}
          dA[c] = std::fma(w, delta[c], dA[c]);
          ddelta[c] = std::fma(w, an[c], ddelta[c]);
          shb[c] = std::fma(adj, bn, shb[c]);
          pb[c] = adj * dud[c];
          pc[c] = gy[c] * hc[c];
        }
      }
      sum_rows(s.tile.data(), 2 * p.N, s.fold.data(), s.sums.data());
      for (int64_t n = 0; n < p.N; ++n) {
        dB_rows[t * p.N + n] += s.sums[n];
        dC_rows[t * p.N + n] += s.sums[p.N + n];
      }
#pragma omp simd
      for (int64_t c = 0; c < kLanes; ++c) {
        const scalar_t dd = std::fma(u[c], shb[c], ddelta[c]);
        const scalar_t sv = sraw[c] + k.bias[c], sig = sigmoid(sv);
        ddelta[c] = sv > scalar_t(20) ? dd : dd * sig;  // through softplus: σ below the threshold
        dbias[c] += ddelta[c];
        du[c] = std::fma(delta[c], shb[c], du[c]);
      }
      for (int64_t c = 0; c < k.width; ++c) {
        g.du[row + c] = du[c];
        g.ddr[row + c] = ddelta[c];
        g.dz[row + c] = dz[c];
      }
    }
  }
  for (int64_t c = 0; c < k.width; ++c) {
    const int64_t bc = k.b * p.Di + k.c0 + c;
    for (int64_t n = 0; n < p.N; ++n) part.dA[bc * p.N + n] = s.dA[n * kLanes + c];
    part.dD[bc] = dD[c];
    part.dbias[bc] = dbias[c];
  }
}

template <class scalar_t>
void backward(const Scan<scalar_t>& p, const scalar_t* ckpt, const scalar_t* dout, const Grads<scalar_t>& g) {
  const int64_t n_blocks = (p.Di + kLanes - 1) / kLanes, n_groups = (n_blocks + kGroup - 1) / kGroup;
  const int64_t len = std::min(p.chunk, p.T);
  Partials<scalar_t> part;
  part.dA.assign(p.B * p.Di * p.N, scalar_t(0));
  part.dD.assign(p.B * p.Di, scalar_t(0));
  part.dbias.assign(p.B * p.Di, scalar_t(0));
  part.dB.assign(p.B * n_groups * p.T * p.N, scalar_t(0));
  part.dC.assign(p.B * n_groups * p.T * p.N, scalar_t(0));
#pragma omp parallel
  {
    Scratch<scalar_t> s;
    s.hs.resize((len + 1) * p.N * kLanes);
    s.deltas.resize(len * kLanes);
    s.ys.resize(len * kLanes);
    s.hhat.resize(p.N * kLanes);
    s.anext.resize(p.N * kLanes);
    s.dA.resize(p.N * kLanes);
    s.tile.resize(2 * p.N * kLanes);
    s.fold.resize(2 * p.N * (kLanes - 2));
    s.sums.resize(2 * p.N);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < p.B * n_groups; ++task) {
      const int64_t b = task / n_groups, group = task % n_groups;
      scalar_t* dB_rows = part.dB.data() + task * p.T * p.N;
      scalar_t* dC_rows = part.dC.data() + task * p.T * p.N;
      for (int64_t j = 0; j < kGroup && group * kGroup + j < n_blocks; ++j) {
        const Block<scalar_t> k = make_block(p, b, (group * kGroup + j) * kLanes);
        backward_block(p, k, ckpt, dout, g, dB_rows, dC_rows, part, s);
      }
    }
  }
  // Fixed-order reductions (in double): over the batch for the parameters, over groups for dB and dC.
#pragma omp parallel for schedule(static)
  for (int64_t cn = 0; cn < p.Di * p.N; ++cn) {
    double acc = 0;
    for (int64_t b = 0; b < p.B; ++b) acc += part.dA[b * p.Di * p.N + cn];
    g.dA[cn] = static_cast<scalar_t>(acc);
  }
  for (int64_t c = 0; c < p.Di; ++c) {
    double accD = 0, accb = 0;
    for (int64_t b = 0; b < p.B; ++b) {
      accD += part.dD[b * p.Di + c];
      accb += part.dbias[b * p.Di + c];
    }
    g.dD[c] = static_cast<scalar_t>(accD);
    g.dbias[c] = static_cast<scalar_t>(accb);
  }
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < p.B * p.T; ++bt) {
    const int64_t b = bt / p.T, t = bt % p.T;
    for (int64_t n = 0; n < p.N; ++n) {
      double accB = 0, accC = 0;
      for (int64_t group = 0; group < n_groups; ++group) {
        const int64_t at = ((b * n_groups + group) * p.T + t) * p.N + n;
        accB += part.dB[at];
        accC += part.dC[at];
      }
      g.dBm[bt * p.N + n] = static_cast<scalar_t>(accB);
      g.dCm[bt * p.N + n] = static_cast<scalar_t>(accC);
    }
  }
}

// One decoding step per (b, c), the arithmetic of block_step for one lane.
template <class scalar_t>
void step(const Scan<scalar_t>& p, scalar_t* state, scalar_t* out) {
#pragma omp parallel for schedule(static) if (p.B * p.Di * p.N > (1 << 15))
  for (int64_t bc = 0; bc < p.B * p.Di; ++bc) {
    const int64_t b = bc / p.Di, c = bc % p.Di;
    const scalar_t delta = softplus(p.dr[bc] + p.bias[c]);
    const scalar_t du = delta * p.u[bc];
    scalar_t y = p.D[c] * p.u[bc];
    scalar_t* h = state + bc * p.N;
    for (int64_t n = 0; n < p.N; ++n) {
      const scalar_t a = fast_exp<ExpVariant::state>(delta * p.A[c * p.N + n]);
      const scalar_t hv = std::fma(a, h[n], du * p.Bm[b * p.N + n]);
      h[n] = hv;
      y = std::fma(p.Cm[b * p.N + n], hv, y);
    }
    out[bc] = y * silu(p.z[bc]);
  }
}

}  // namespace

void selective_scan_forward(Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* out, void* checkpoints) {
  dispatch_float(dtype, "selective_scan", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    forward(typed<scalar_t>(dims, in), static_cast<scalar_t*>(out), static_cast<scalar_t*>(checkpoints));
  });
}

void selective_scan_backward(Dtype dtype, const ScanDims& dims, const ScanInputs& in, const void* checkpoints,
                             const void* dout, const ScanGrads& grads) {
  dispatch_float(dtype, "selective_scan_backward", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    Grads<scalar_t> g{static_cast<scalar_t*>(grads.du),          static_cast<scalar_t*>(grads.ddelta_raw),
                      static_cast<scalar_t*>(grads.dA),          static_cast<scalar_t*>(grads.dBm),
                      static_cast<scalar_t*>(grads.dCm),         static_cast<scalar_t*>(grads.dD),
                      static_cast<scalar_t*>(grads.ddelta_bias), static_cast<scalar_t*>(grads.dz)};
    backward(typed<scalar_t>(dims, in), static_cast<const scalar_t*>(checkpoints), static_cast<const scalar_t*>(dout),
             g);
  });
}

void selective_scan_step(Dtype dtype, const ScanDims& dims, const ScanInputs& in, void* state, void* out) {
  dispatch_float(dtype, "selective_scan_step", [&](auto tag) {
    using scalar_t = TTT_T(tag);
    ScanDims one = dims;
    one.steps = 1;
    one.chunk = 1;
    step(typed<scalar_t>(one, in), static_cast<scalar_t*>(state), static_cast<scalar_t*>(out));
  });
}

}  // namespace tttlm::kernels::cpu
