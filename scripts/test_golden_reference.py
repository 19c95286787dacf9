#!/usr/bin/env python3
"""Self-checks of the numpy reference (scripts/golden_reference.py) and of the fixtures in tests/golden/, with no
C++ involved. Run:  /usr/bin/python3 scripts/test_golden_reference.py   (numpy only; exit status 1 on failure)

What is checked: second implementations of the same math (TTT dual form, TTT decoding accumulators, LN
Jacobian, Mamba associative / chunked scans and recurrent decoding, a loop attention, a loop loss), closed forms
(TTT-Linear with W0 = 0 and no LN/residual = causal linear attention, RoPE rotations), finite differences of the
inner gradient, causality of all six kinds, the fixtures' files against the reference, and negative controls
showing that the fixtures separate the spec from its likely misreadings."""
import json
import math
import os
import sys
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_reference as ref  # noqa: E402
import make_golden as mg  # noqa: E402

GOLDEN = os.path.join(mg.ROOT, "tests", "golden")
RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print("%s  %s%s" % ("PASS" if ok else "FAIL", name, ("  (" + detail + ")") if detail else ""))


def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def run(fn):
    """Runs one group of checks; an exception is one failure."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        check(fn.__name__ + " raised", False)


def fixture_params(kind):
    """The (config, f32 params, ids) that make_golden draws for this kind (same seed, same order)."""
    i = ref.KINDS.index(kind)
    rng = np.random.default_rng(mg.SEED + i)
    c = ref.resolve_config(mg.model_section(kind))
    P = mg.random_params(c, rng)
    ids = mg.random_ids(rng, mg.BATCH, mg.SEQ, c["vocab_size"])
    return c, P, ids


# --------------------------------------------------------------------------------------------------------
# Second implementation of the TTT inner loop: dual form (docs/spec/ttt.md §3.7 "Dual"), with the LN backward as an
# explicit Jacobian instead of the closed form the reference uses.


def ln2(z, g, b, eps=1e-6):
    d = z.shape[-1]
    mu = z.sum(-1, keepdims=True) / d
    var = (z * z).sum(-1, keepdims=True) / d - mu * mu
    return g * (z - mu) / np.sqrt(var + eps) + b


def ln_jacobian_vjp(Z, E, g, eps=1e-6):
    """Rows j: J(Z_j)^T E_j with J[i, k] = g_i (delta_ik - 1/d - zh_i zh_k / d) / s (the LN Jacobian)."""
    d = Z.shape[-1]
    out = np.zeros_like(Z)
    for j in range(Z.shape[0]):
        z = Z[j]
        s = math.sqrt(np.var(z) + eps)
        zh = (z - z.mean()) / s
        J = g[:, None] * (np.eye(d) - 1.0 / d - np.outer(zh, zh) / d) / s
        out[j] = J.T @ E[j]
    return out


def gelu2(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def ttt_dual(Q, K, V, eta_col, tau, state, g, b, mlp, m):
    """Whole sequence of one head, mini-batch by mini-batch in dual form; the carry uses the last row of eta."""
    T = Q.shape[0]
    st = {n: a.copy() for n, a in state.items()}
    O = np.zeros_like(Q)
    for s in range(0, T, m):
        e = min(s + m, T)
        Qb, Kb, Vb = Q[s:e], K[s:e], V[s:e]
        r = e - s
        eta = tau[:r, None] * eta_col[None, s:e]
        tril = np.tril(np.ones((r, r)))
        if not mlp:
            W, bb = st["W1"], st["b1"]
            Z = Kb @ W + bb
            G = ln_jacobian_vjp(Z, ln2(Z, g, b) - (Vb - Kb), g)
            Zbar = Qb @ W - (eta * np.tril(Qb @ Kb.T)) @ G + (bb - (eta * tril) @ G)
            O[s:e] = Qb + ln2(Zbar, g, b)
            st["W1"] = W - (eta[-1][:, None] * Kb).T @ G
            st["b1"] = bb - eta[-1] @ G
        else:
            W1, b1, W2, b2 = st["W1"], st["b1"], st["W2"], st["b2"]
            Z1 = Kb @ W1 + b1
            X2 = gelu2(Z1)
            Z2 = X2 @ W2 + b2
            G2 = ln_jacobian_vjp(Z2, ln2(Z2, g, b) - (Vb - Kb), g)
            G1 = (G2 @ W2.T) * ref.gelu_tanh_grad(Z1)  # the spec's hand-written gelu' (checked by FD below)
            Z1bar = Qb @ W1 - (eta * np.tril(Qb @ Kb.T)) @ G1 + (b1 - (eta * tril) @ G1)
            X2bar = gelu2(Z1bar)
            Z2bar = X2bar @ W2 - (eta * np.tril(X2bar @ X2.T)) @ G2 + (b2 - (eta * tril) @ G2)
            O[s:e] = Qb + ln2(Z2bar, g, b)
            st["W1"] = W1 - (eta[-1][:, None] * Kb).T @ G1
            st["b1"] = b1 - eta[-1] @ G1
            st["W2"] = W2 - (eta[-1][:, None] * X2).T @ G2
            st["b2"] = b2 - eta[-1] @ G2
    return O, st


def ttt_decode(Q, K, V, eta_col, tau, state, g, b, mlp, m):
    """Token-by-token decoding with gradient accumulators (docs/spec/ttt.md §3.11)."""
    st = {n: a.copy() for n, a in state.items()}
    acc = {n: np.zeros_like(a) for n, a in st.items()}
    O = np.zeros_like(Q)
    for t in range(Q.shape[0]):
        s = t % m
        grads = ref.inner_token_grad(st, K[t], V[t] - K[t], g, b, mlp)
        for n in acc:
            acc[n] += eta_col[t] * grads[n]
        cur = {n: st[n] - tau[s] * acc[n] for n in st}
        O[t] = Q[t] + ln2(ref.inner_fres(cur, Q[t], mlp), g, b)
        if s == m - 1:
            st = cur
            acc = {n: np.zeros_like(a) for n, a in st.items()}
    return O


def random_inner(rng, T, d, mlp, m):
    Q, K, V = (rng.normal(0, 1, (T, d)) for _ in range(3))
    eta_col = 1.0 / d * 1.0 / (1.0 + np.exp(-rng.normal(0, 1, T)))
    tau = np.maximum(0.0, 1.0 / np.arange(1, m + 1) + rng.normal(0, 0.03, m))
    tau[2] = 0.0
    h = 4 * d if mlp else d
    state = {"W1": rng.normal(0, 1 / math.sqrt(d), (d, h)), "b1": rng.normal(0, 0.1, h)}
    if mlp:
        state.update({"W2": rng.normal(0, 1 / math.sqrt(h), (h, d)), "b2": rng.normal(0, 0.1, d)})
    g, b = 1 + rng.normal(0, 0.1, d), rng.normal(0, 0.1, d)
    return Q, K, V, eta_col, tau, state, g, b


def test_ttt_dual_equals_primal():
    rng = np.random.default_rng(1)
    for mlp in (False, True):
        for T in (8, 20, 24):
            Q, K, V, eta_col, tau, state, g, b = random_inner(rng, T, 8, mlp, 8)
            Op, sp = ref.ttt_inner_primal(Q, K, V, eta_col, tau, state, g, b, mlp, 8)
            Od, sd = ttt_dual(Q, K, V, eta_col, tau, state, g, b, mlp, 8)
            err = maxdiff(Op, Od)
            serr = max(maxdiff(sp[n], sd[n]) for n in sp)
            check("TTT-%s dual == primal, T=%d, m=8" % ("MLP" if mlp else "Linear", T), err < 1e-11 and serr < 1e-11,
                  "max|dO| %.1e, max|dstate| %.1e, max|O| %.1f" % (err, serr, np.abs(Op).max()))
            Odec = ttt_decode(Q, K, V, eta_col, tau, state, g, b, mlp, 8)
            err = maxdiff(Op, Odec)
            check("TTT-%s decoding accumulators == primal, T=%d" % ("MLP" if mlp else "Linear", T), err < 1e-11,
                  "max|dO| %.1e" % err)


def test_ttt_dual_whole_model():
    """Every TTT fixture's logits with the dual form swapped in for the primal."""
    primal = ref.ttt_inner_primal

    def dual(q, k, v, eta_col, tau, state0, ln_g, ln_b, mlp, mini_batch, use_ln=True, residual=True, target_v=False):
        assert use_ln and residual and not target_v
        return ttt_dual(q, k, v, eta_col, tau, state0, ln_g, ln_b, mlp, mini_batch)

    for kind in ref.KINDS[:4]:
        c, P, ids = fixture_params(kind)
        a = ref.forward(P, c, ids)
        ref.ttt_inner_primal = dual
        try:
            bb = ref.forward(P, c, ids)
        finally:
            ref.ttt_inner_primal = primal
        err = maxdiff(a, bb)
        check("%s: model logits, dual form == primal form" % kind, err < 1e-10, "max|dlogit| %.1e" % err)


def test_linear_attention():
    """W0 = 0, b0 = 0, no LN, no residual, one mini-batch: o_i = sum_{j<=i} eta_ij (q_i.k_j + 1)(v_j - k_j).
    (The +1 is the inner bias b, which is updated too: it acts as a constant feature.)"""
    rng = np.random.default_rng(2)
    T = d = 8
    Q, K, V = (rng.normal(0, 1, (T, d)) for _ in range(3))
    eta_col = rng.uniform(0.01, 0.2, T)
    tau = np.maximum(0.0, 1.0 / np.arange(1, T + 1) + rng.normal(0, 0.05, T))
    state = {"W1": np.zeros((d, d)), "b1": np.zeros(d)}
    O, _ = ref.ttt_inner_primal(Q, K, V, eta_col, tau, state, np.ones(d), np.zeros(d), False, T, use_ln=False,
                                residual=False)
    eta = np.tril(tau[:, None] * eta_col[None, :])
    la = (eta * (Q @ K.T + 1.0)) @ (V - K)
    err = maxdiff(O, la)
    check("TTT-Linear, W0=0, no LN/residual, one mini-batch == causal linear attention", err < 1e-12,
          "max|d| %.1e, max|O| %.2f" % (err, np.abs(O).max()))


def test_inner_gradients():
    """Reference inner gradients vs central differences of l(W) = 1/2 ||LN(f_res(k; W)) - r||^2."""
    rng = np.random.default_rng(3)
    d = 8
    for mlp in (False, True):
        _, K, V, _, _, state, g, b = random_inner(rng, 1, d, mlp, 8)
        k, r = K[0], V[0] - K[0]

        def loss(st):
            return 0.5 * np.sum((ln2(ref.inner_fres(st, k, mlp), g, b) - r) ** 2)

        grads = ref.inner_token_grad(state, k, r, g, b, mlp)
        worst = 0.0
        for n, a in state.items():
            fd = np.zeros_like(a)
            for idx in np.ndindex(a.shape):
                hi = {m: x.copy() for m, x in state.items()}
                lo = {m: x.copy() for m, x in state.items()}
                hi[n][idx] += 1e-6
                lo[n][idx] -= 1e-6
                fd[idx] = (loss(hi) - loss(lo)) / 2e-6
            worst = max(worst, maxdiff(fd, grads[n]) / max(1e-3, np.abs(fd).max()))
        check("TTT-%s inner gradient == central differences" % ("MLP" if mlp else "Linear"), worst < 1e-7,
              "max rel err %.1e" % worst)
    x = np.linspace(-6, 6, 241)
    fd = (ref.gelu_tanh(x + 1e-6) - ref.gelu_tanh(x - 1e-6)) / 2e-6
    err = maxdiff(fd, ref.gelu_tanh_grad(x))
    check("hand-written gelu' (literal constants) == d/dx gelu_tanh", err < 1e-8, "max|d| %.1e" % err)
    Z, E = rng.normal(0, 2, (5, d)), rng.normal(0, 1, (5, d))
    err = maxdiff(ref.layer_norm_vjp(Z, E, g), ln_jacobian_vjp(Z, E, g))
    check("LayerNorm closed-form vjp == explicit Jacobian", err < 1e-12, "max|d| %.1e" % err)


# --------------------------------------------------------------------------------------------------------
# Mamba: second and third scan formulations, recurrent decoding.


def scan_inputs(rng, Bsz=2, T=29, Di=6, N=5):
    u = rng.normal(0, 1, (Bsz, T, Di))
    s = rng.normal(-1, 2, (Bsz, T, Di))
    s[0, 3, 1], s[1, 7, 2], s[0, 11, 0] = 25.0, -25.0, 20.5  # both softplus branches and a near-threshold value
    delta = ref.softplus(s)
    A = -np.exp(rng.normal(0, 1, (Di, N)))
    Bm, Cm = rng.normal(0, 1, (Bsz, T, N)), rng.normal(0, 1, (Bsz, T, N))
    return u, delta, A, Bm, Cm, rng.normal(0, 1, Di)


def scan_associative(u, delta, A, Bm, Cm, D):
    """Hillis-Steele inclusive scan of the affine maps h -> a h + beta with (a1, b1) o (a0, b0) = (a1 a0, a1 b0 + b1)."""
    a = np.exp(delta[..., None] * A)
    bt = (delta * u)[..., None] * Bm[:, :, None, :]
    off = 1
    while off < u.shape[1]:
        a_new, b_new = a.copy(), bt.copy()
        b_new[:, off:] = a[:, off:] * bt[:, :-off] + bt[:, off:]
        a_new[:, off:] = a[:, off:] * a[:, :-off]
        a, bt = a_new, b_new
        off *= 2
    return (bt * Cm[:, :, None, :]).sum(-1) + D * u, bt[:, -1]


def scan_chunked(u, delta, A, Bm, Cm, D, chunk):
    """Chunks with a carried state; inside a chunk h_t = e^{L_t} h0 + sum_{s<=t} e^{L_t - L_s} beta_s, L = cumsum(delta A)."""
    Bsz, T, Di = u.shape
    h = np.zeros((Bsz, Di, A.shape[1]))
    y = np.zeros_like(u)
    for s in range(0, T, chunk):
        e = min(s + chunk, T)
        L = np.cumsum(delta[:, s:e, :, None] * A, axis=1)  # (B, c, Di, N)
        beta = (delta[:, s:e] * u[:, s:e])[..., None] * Bm[:, s:e, None, :]
        seg = L[:, :, None] - L[:, None, :]  # (B, t, s, Di, N)
        mask = np.tril(np.ones((e - s, e - s), dtype=bool))[None, :, :, None, None]
        decay = np.exp(np.where(mask, seg, -np.inf))
        H = np.exp(L) * h[:, None] + np.einsum("btsdn,bsdn->btdn", decay, beta)
        y[:, s:e] = (H * Cm[:, s:e, None, :]).sum(-1) + D * u[:, s:e]
        h = H[:, -1]
    return y, h


def test_mamba_scans():
    rng = np.random.default_rng(4)
    args = scan_inputs(rng)
    y0, h0 = ref.selective_scan_naive(*args, return_state=True)
    y1, h1 = scan_associative(*args)
    check("Mamba naive scan == associative (Hillis-Steele) scan", maxdiff(y0, y1) < 1e-12 and maxdiff(h0, h1) < 1e-12,
          "max|dy| %.1e, max|dh| %.1e" % (maxdiff(y0, y1), maxdiff(h0, h1)))
    for chunk in (1, 4, 7, 29):
        y2, h2 = scan_chunked(*args, chunk)
        err = max(maxdiff(y0, y2), maxdiff(h0, h2))
        check("Mamba naive scan == chunked closed form, chunk=%d, T=29" % chunk, err < 1e-11, "max|d| %.1e" % err)
    s = np.array([-30.0, -1.0, 0.0, 19.9, 20.0, 20.1, 50.0])
    want = np.array([math.log1p(math.exp(x)) if x <= 20 else x for x in s])
    check("softplus with threshold 20", maxdiff(ref.softplus(s), want) == 0.0)


def mamba_decode_logits(P, c, ids, prefill):
    """Prefill `prefill` tokens with the full forward (saving the conv and SSM states), then one token at a time
    with Mamba.step (docs/spec/mamba.md §6). Returns logits (B, T, V')."""
    P = {n: np.asarray(a, dtype=np.float64) for n, a in P.items()}
    Di, N, R, K = ref.mamba_dims(c)
    E, eps, Bsz, T = P["embed_tokens.weight"], c["rms_norm_eps"], ids.shape[0], ids.shape[1]
    conv_state = [np.zeros((Bsz, K, Di)) for _ in range(c["num_layers"])]
    ssm_state = [np.zeros((Bsz, Di, N)) for _ in range(c["num_layers"])]
    out = []
    if prefill:
        h = E[ids[:, :prefill]]
        for layer in range(c["num_layers"]):
            p = "layers.%d.mixer." % layer
            hn = ref.rms_norm(h, P["layers.%d.norm.weight" % layer], eps)
            xz = hn @ P[p + "in_proj.weight"]
            x, z = xz[..., :Di], xz[..., Di:]
            xpad = np.concatenate([np.zeros((Bsz, K, Di)), x], axis=1)
            conv_state[layer] = xpad[:, -K:]
            xc = ref.silu(ref.causal_conv(x, P[p + "conv1d.weight"], P[p + "conv1d.bias"]))
            dbl = xc @ P[p + "x_proj.weight"]
            delta = ref.softplus(dbl[..., :R] @ P[p + "dt_proj.weight"] + P[p + "dt_proj.bias"])
            y, ssm_state[layer] = ref.selective_scan_naive(xc, delta, -np.exp(P[p + "A_log"]), dbl[..., R:R + N],
                                                           dbl[..., R + N:], P[p + "D"], return_state=True)
            h = h + (y * ref.silu(z)) @ P[p + "out_proj.weight"]
        out.append(ref.rms_norm(h, P["norm.weight"], eps) @ E.T)
    for t in range(prefill, T):
        h = E[ids[:, t]]
        for layer in range(c["num_layers"]):
            p = "layers.%d.mixer." % layer
            hn = ref.rms_norm(h, P["layers.%d.norm.weight" % layer], eps)
            xz = hn @ P[p + "in_proj.weight"]
            x, z = xz[:, :Di], xz[:, Di:]
            cs = np.roll(conv_state[layer], -1, axis=1)
            cs[:, -1] = x
            conv_state[layer] = cs
            xc = ref.silu((cs * P[p + "conv1d.weight"]).sum(1) + P[p + "conv1d.bias"])
            dbl = xc @ P[p + "x_proj.weight"]
            delta = ref.softplus(dbl[:, :R] @ P[p + "dt_proj.weight"] + P[p + "dt_proj.bias"])
            A = -np.exp(P[p + "A_log"])
            ssm = np.exp(delta[:, :, None] * A) * ssm_state[layer] + (delta * xc)[:, :, None] * dbl[:, None, R:R + N]
            ssm_state[layer] = ssm
            y = (ssm * dbl[:, None, R + N:]).sum(-1) + P[p + "D"] * xc
            h = h + (y * ref.silu(z)) @ P[p + "out_proj.weight"]
        out.append((ref.rms_norm(h, P["norm.weight"], eps) @ E.T)[:, None])
    return np.concatenate(out, axis=1)


def test_mamba_decoding():
    c, P, ids = fixture_params("mamba")
    full = ref.forward(P, c, ids)
    for prefill in (0, 1, 3, 4, 5, 17):
        err = maxdiff(full, mamba_decode_logits(P, c, ids, prefill))
        check("Mamba LM recurrent decoding (prefill %d) == full forward" % prefill, err < 1e-11, "max|d| %.1e" % err)


# --------------------------------------------------------------------------------------------------------
# Pieces with closed forms or loop forms.


def test_primitives():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (2, 9, 3))
    w, b = rng.normal(0, 1, (4, 3)), rng.normal(0, 1, 3)
    want = np.zeros_like(x)
    for t in range(9):
        want[:, t] = b + sum(w[k] * x[:, t - 3 + k] for k in range(4) if t - 3 + k >= 0)
    check("causal conv == loop definition (K[w-1] multiplies the current token)",
          maxdiff(ref.causal_conv(x, w, b), want) < 1e-14)
    d = 8
    v = rng.normal(0, 1, (1, 1, 1, d))
    p = 5.0
    want = np.empty(d)
    for i in range(d // 2):
        zc = complex(v[0, 0, 0, 2 * i], v[0, 0, 0, 2 * i + 1]) * np.exp(1j * p * 10000.0 ** (-2 * i / d))
        want[2 * i], want[2 * i + 1] = zc.real, zc.imag
    check("RoPE == complex rotation of interleaved pairs", maxdiff(ref.rope(v, [p], 10000.0)[0, 0, 0], want) < 1e-14)
    q, k = rng.normal(0, 1, (1, 2, 1, d)), rng.normal(0, 1, (1, 2, 1, d))
    dots = [(ref.rope(q, [p0, p0], 1e4)[0, 0, 0] @ ref.rope(k, [p0 + 3, p0 + 3], 1e4)[0, 1, 0]) for p0 in (0, 7, 100)]
    check("RoPE scores depend only on the relative position", max(dots) - min(dots) < 1e-12)
    z = rng.normal(0, 3, (4, d))
    g, bb = rng.normal(1, 0.1, d), rng.normal(0, 0.1, d)
    check("LayerNorm two-pass == one-pass", maxdiff(ref.layer_norm(z, g, bb), ln2(z, g, bb)) < 1e-13)
    logits = rng.normal(0, 3, (3, 6, 11))
    targets = rng.integers(0, 11, (3, 6))
    targets[0, 2] = targets[1, 0] = 1
    targets[2] = 1  # an all-BOS row contributes 0 (the max(count, 1e-10) guard)
    per = []
    for r in range(3):
        tot, cnt = 0.0, 0
        for t in range(6):
            if targets[r, t] != 1:
                tot += -(logits[r, t, targets[r, t]] - math.log(sum(math.exp(x) for x in logits[r, t])))
                cnt += 1
        per.append(tot / max(cnt, 1e-10))
    check("official loss == loop (masked per-row mean, then row mean; all-BOS row -> 0)",
          abs(ref.official_loss(logits, targets) - sum(per) / 3) < 1e-13)


def test_attention_loop():
    c, P, ids = fixture_params("transformer")
    Pd = {n: a.astype(np.float64) for n, a in P.items()}
    rng = np.random.default_rng(6)
    u = rng.normal(0, 1, (2, 11, c["hidden_size"]))
    pre = "layers.0.seq_modeling_block."
    H, d = c["num_heads"], ref.head_dim(c)
    q = ref.rope((u @ Pd[pre + "wq.weight"]).reshape(2, 11, H, d), np.arange(11), 1e4)
    k = ref.rope((u @ Pd[pre + "wk.weight"]).reshape(2, 11, H, d), np.arange(11), 1e4)
    v = (u @ Pd[pre + "wv.weight"]).reshape(2, 11, H, d)
    o = np.zeros((2, 11, H, d))
    for bi in range(2):
        for h in range(H):
            for t in range(11):
                s = np.array([q[bi, t, h] @ k[bi, j, h] / math.sqrt(d) for j in range(t + 1)])
                w = np.exp(s - s.max())
                o[bi, t, h] = (w / w.sum()) @ v[bi, :t + 1, h]
    want = o.reshape(2, 11, -1) @ Pd[pre + "wo.weight"]
    err = maxdiff(ref.attention_layer(Pd, pre, u, c), want)
    check("attention == per-query loop", err < 1e-13, "max|d| %.1e" % err)


# --------------------------------------------------------------------------------------------------------
# Whole models: causality, short last mini-batch, fixtures, negative controls.


def test_causality():
    for kind in ref.KINDS:
        c, P, ids = fixture_params(kind)
        base = ref.forward(P, c, ids)
        worst_before, least_at = 0.0, np.inf
        for t in (0, 5, 7, 8, 15, 16, 23):
            ids2 = ids.copy()
            ids2[:, t] = (ids2[:, t] + 17) % c["vocab_size"]
            other = ref.forward(P, c, ids2)
            if t:
                worst_before = max(worst_before, maxdiff(base[:, :t], other[:, :t]))
            least_at = min(least_at, maxdiff(base[:, t], other[:, t]))
        check("%s: changing token t changes no logit before t, and changes logit t" % kind,
              worst_before == 0.0 and least_at > 1e-3, "max|d| before t %.1e, min max|d| at t %.2f" % (worst_before,
                                                                                                    least_at))


def test_short_last_minibatch():
    """T = 20 (m = 8 leaves a short last mini-batch of 4) equals right-padding to 24 and dropping the pad."""
    for kind in ref.KINDS[:4]:
        c, P, ids = fixture_params(kind)
        short = ref.forward(P, c, ids[:, :20])
        err = maxdiff(short, ref.forward(P, c, ids)[:, :20])
        check("%s: T=20 (short last mini-batch) == first 20 of T=24" % kind, err == 0.0, "max|d| %.1e" % err)


def spec_param_count(c):
    """docs/spec/ttt.md §6 and docs/spec/mamba.md §1 formulas, with this config's m and w."""
    D, V, L = c["hidden_size"], ref.padded_vocab(c), c["num_layers"]
    if c["kind"] == "mamba":
        Di, N, R, K = ref.mamba_dims(c)
        return V * D + D + L * (3 * Di * D + Di * (2 * R + 3 * N + K + 3) + D)
    I, H, d, m, w = c["intermediate_size"], c["num_heads"], ref.head_dim(c), c["mini_batch_size"], c["conv_width"]
    block = 2 * D + 3 * D * I
    if c["kind"] == "transformer":
        block += 4 * D * D
    else:
        block += 4 * D * D + m + H * D + H + 2 * D + 2 * D
        block += 8 * D * d + 5 * D if c["kind"].startswith("ttt-mlp") else D * d + D
        if c["share_qk"]:
            block += 2 * (w * D + D)
    if c["pre_conv"]:
        block += w * D + D + D
    return V * D + D + L * block


def test_fixtures():
    for kind in ref.KINDS:
        d = os.path.join(GOLDEN, kind)
        if not os.path.isdir(d):
            check("%s: fixture folder exists (run python3 scripts/make_golden.py)" % kind, False)
            continue
        meta = json.load(open(os.path.join(d, "meta.json")))
        check("%s: meta.json format/version" % kind,
              meta["format"] == mg.FORMAT and meta["version"] == mg.VERSION and meta["kind"] == kind)
        model = json.load(open(os.path.join(d, "config.json")))["model"]
        c = ref.resolve_config(model)
        check("%s: max_seq_len multiple of mini_batch_size and >= 24" % kind,
              c["max_seq_len"] % c["mini_batch_size"] == 0 and c["max_seq_len"] >= mg.SEQ)
        P = ref.load_safetensors(os.path.join(d, "model.safetensors"))
        shapes = ref.param_shapes(c)
        ok = set(P) == set(shapes) and all(tuple(P[n].shape) == tuple(s) for n, s in shapes.items())
        check("%s: safetensors names and shapes == the C++ parameter list" % kind, ok,
              "%d tensors; missing %s; extra %s" % (len(P), sorted(set(shapes) - set(P))[:3], sorted(set(P) - set(shapes))[:3]))
        n = sum(a.size for a in P.values())
        check("%s: parameter count == spec formula" % kind, n == spec_param_count(c) == meta["num_parameters"],
              "%d" % n)
        _, P0, ids0 = fixture_params(kind)
        check("%s: stored parameters == regenerated ones (bitwise)" % kind,
              all(np.array_equal(P[n], P0[n]) for n in P0))
        losses = json.load(open(os.path.join(d, "loss.json")))
        cases = [("", mg.SEQ)] + ([("_t20", mg.SEQ_SHORT)] if kind.startswith("ttt") else [])
        check("%s: loss.json keys" % kind, set(losses) == {"loss" + tag for tag, _ in cases})
        for tag, T in cases:
            ids = np.load(os.path.join(d, "ids%s.npy" % tag))
            logits = np.load(os.path.join(d, "logits%s.npy" % tag))
            check("%s: ids%s int32 (2, %d) in [0, vocab), BOS among the targets" % (kind, tag, T),
                  ids.dtype == np.int32 and ids.shape == (2, T) and ids.min() >= 0 and ids.max() < c["vocab_size"]
                  and (ids[:, 1:] == ref.BOS_ID).sum() >= 2)
            want = ref.forward(P, c, ids)
            err = maxdiff(logits, want)
            check("%s: logits%s (f32 %s) == f64 reference from the stored f32 weights" % (kind, tag, logits.shape),
                  logits.dtype == np.float32 and logits.shape == (2, T, ref.padded_vocab(c))
                  and err <= 1e-6 * np.abs(want).max(), "max|d| %.1e" % err)
            loss = ref.official_loss(ref.forward(P, c, ids[:, :-1]), ids[:, 1:])
            check("%s: loss%s == official loss of inputs ids[:, :-1], targets ids[:, 1:]" % (kind, tag),
                  abs(loss - losses["loss" + tag]) < 1e-12, "%.9f" % loss)
        if kind.startswith("ttt"):
            tau = 1.0 / np.arange(1, c["mini_batch_size"] + 1) + P["layers.0.seq_modeling_block.learnable_token_idx"]
            check("%s: one tau_i is clipped to 0, the others stay positive" % kind,
                  (tau < 0).sum() == 1 and tau[-1] > 0, "tau %s" % np.round(np.maximum(tau, 0), 3).tolist())
        size = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))
        check("%s: folder < 200 KB" % kind, size < 200 * 1024, "%d bytes" % size)


NEGATIVE_CONTROLS = {
    "ttt": ["rope_absolute", "rope_half", "no_tau_clip", "no_div_d", "target_v"],
    "ttt-mamba": ["gelu_erf"],
    "transformer": ["rope_half", "rope_mod"],
    "mamba": ["mamba_swap_bc", "mamba_no_d"],
}


def test_negative_controls():
    """Likely misreadings of the spec move the fixtures' logits far beyond f32 rounding (threshold 1e-3)."""
    for kind in ref.KINDS:
        c, P, ids = fixture_params(kind)
        base = ref.forward(P, c, ids)
        variants = []
        if kind.startswith("ttt"):
            variants += NEGATIVE_CONTROLS["ttt"] + (NEGATIVE_CONTROLS["ttt-mamba"] if kind.endswith("mamba") else [])
        else:
            variants += NEGATIVE_CONTROLS[kind]
        parts = []
        ok = True
        for v in variants:
            dlt = maxdiff(base, ref.forward(P, c, ids, opts=(v,)))
            parts.append("%s %.2g" % (v, dlt))
            ok = ok and dlt > 1e-3
        # Misreadings expressed as parameter transforms: a flipped conv kernel (convolution instead of
        # cross-correlation), the x / z halves of Mamba's in_proj swapped.
        transforms = []
        if any(n.endswith(("conv.weight", "conv_q.weight", "conv_k.weight", "conv1d.weight")) for n in P):
            transforms.append(("conv_flip", lambda n, a: a[::-1] if n.endswith(("conv.weight", "conv_q.weight",
                                                                               "conv_k.weight", "conv1d.weight")) else a))
        if kind == "mamba":
            transforms.append(("swap_xz", lambda n, a: np.roll(a, a.shape[1] // 2, axis=1)
                               if n.endswith("in_proj.weight") else a))
        for name, fn in transforms:
            dlt = maxdiff(base, ref.forward({n: fn(n, a) for n, a in P.items()}, c, ids))
            parts.append("%s %.2g" % (name, dlt))
            ok = ok and dlt > 1e-3
        if kind.startswith("ttt"):
            dlt = maxdiff(base, ref.forward(P, c, ids, lr_mult=0.5))
            parts.append("lr_mult=0.5 %.2g" % dlt)
            ok = ok and dlt > 1e-3
        check("%s: negative controls move the logits by > 1e-3" % kind, ok, ", ".join(parts))


def main():
    for fn in (test_primitives, test_inner_gradients, test_ttt_dual_equals_primal, test_ttt_dual_whole_model,
               test_linear_attention, test_mamba_scans, test_mamba_decoding, test_attention_loop, test_causality,
               test_short_last_minibatch, test_fixtures, test_negative_controls):
        run(fn)
    failed = sum(1 for _, ok in RESULTS if not ok)
    print("%d passed, %d failed" % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
