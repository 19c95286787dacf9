#!/usr/bin/env python3
"""Independent float64 numpy reference of the forward pass of the six tttlm model kinds.

Written from docs/spec/ttt.md (§2-§3, §8) and docs/spec/mamba.md (§2-§4) only; it shares no code with the
C++ side. The TTT inner loop is the PRIMAL form (docs/spec/ttt.md §3.7): one set of inner weights per token, every
gradient of a mini-batch taken at the mini-batch's starting state. Mamba uses the naive sequential scan.
Used by scripts/make_golden.py (fixtures in tests/golden/) and checked by scripts/test_golden_reference.py.

Conventions: Linear weights are (in, out), y = x @ W; parameter names are those of layers/*.cpp
("layers.0.seq_modeling_block.wq.weight", ...). `opts` selects deliberate deviations from the spec; they
exist only for the negative controls of the self-test and are empty for the fixtures.
"""
import json
import math

import numpy as np

KINDS = ["ttt-linear-mamba", "ttt-mlp-mamba", "ttt-linear-transformer", "ttt-mlp-transformer", "transformer", "mamba"]
BOS_ID = 1        # targets equal to BOS are not trained (docs/spec/ttt.md §8)
TTT_LN_EPS = 1e-6  # ttt_norm and post_norm (docs/spec/ttt.md §2.1)

# --------------------------------------------------------------------------------------------------------
# Config: the `model` section of config.json, with the defaults of layers/model_config.cpp.


def resolve_config(model):
    """Fills in defaults; per-kind defaults for pre_conv / share_qk / use_gate and the Mamba eps."""
    kind = model["kind"]
    assert kind in KINDS, kind
    mamba_backbone = kind in ("ttt-linear-mamba", "ttt-mlp-mamba")
    c = {"kind": kind, "vocab_size": 32000, "hidden_size": 768, "intermediate_size": 2048, "num_layers": 12,
         "num_heads": 12, "max_seq_len": 2048, "rms_norm_eps": 1e-5 if kind == "mamba" else 1e-6,
         "initializer_range": 0.02, "rope_theta": 10000.0, "tie_word_embeddings": True,
         "pre_conv": mamba_backbone, "share_qk": mamba_backbone, "use_gate": mamba_backbone, "conv_width": 4,
         "mini_batch_size": 16, "ttt_base_lr": 1.0, "ttt_base_lr_init": -1.0, "ttt_base_lr_warmup": -1,
         "inner_snapshot_every": 4, "recompute_blocks": False}
    mamba = {"d_state": 16, "d_conv": 4, "expand": 2, "dt_rank": 0, "dt_min": 0.001, "dt_max": 0.1,
             "dt_init_floor": 1e-4, "pad_vocab_multiple": 8, "decay_a_log_and_d": False, "scan_chunk": 2048}
    for k, v in model.items():
        if k == "mamba":
            for mk, mv in v.items():
                assert mk in mamba, "unknown model.mamba key " + mk
                mamba[mk] = mv
        else:
            assert k in c, "unknown model key " + k
            c[k] = v
    c["mamba"] = mamba
    assert c["tie_word_embeddings"], "only tied embeddings (every paper config)"
    return c


def head_dim(c):
    return c["hidden_size"] // c["num_heads"]


def padded_vocab(c):
    if c["kind"] != "mamba":
        return c["vocab_size"]
    m = c["mamba"]["pad_vocab_multiple"]
    return (c["vocab_size"] + m - 1) // m * m


def mamba_dims(c):
    """(Di, N, R, K) of docs/spec/mamba.md §0; R = ceil(D / 16) when dt_rank is 0 ("auto")."""
    mc = c["mamba"]
    d = c["hidden_size"]
    rank = mc["dt_rank"] if mc["dt_rank"] > 0 else (d + 15) // 16
    return mc["expand"] * d, mc["d_state"], rank, mc["d_conv"]


def param_shapes(c):
    """name -> shape of every parameter, with the names of layers/*.cpp (the C++ state dict)."""
    C, V = c["hidden_size"], padded_vocab(c)
    out = {"embed_tokens.weight": (V, C)}
    for layer in range(c["num_layers"]):
        p = "layers.%d." % layer
        if c["kind"] == "mamba":
            Di, N, R, K = mamba_dims(c)
            out[p + "norm.weight"] = (C,)
            m = p + "mixer."
            out[m + "in_proj.weight"] = (C, 2 * Di)
            out[m + "conv1d.weight"] = (K, Di)
            out[m + "conv1d.bias"] = (Di,)
            out[m + "x_proj.weight"] = (Di, R + 2 * N)
            out[m + "dt_proj.weight"] = (R, Di)
            out[m + "dt_proj.bias"] = (Di,)
            out[m + "A_log"] = (Di, N)
            out[m + "D"] = (Di,)
            out[m + "out_proj.weight"] = (Di, C)
            continue
        I, H, d, K = c["intermediate_size"], c["num_heads"], head_dim(c), c["conv_width"]
        out[p + "seq_norm.weight"] = (C,)
        out[p + "ffn_norm.weight"] = (C,)
        out[p + "feed_forward.w1.weight"] = (C, I)
        out[p + "feed_forward.w3.weight"] = (C, I)
        out[p + "feed_forward.w2.weight"] = (I, C)
        if c["pre_conv"]:
            out[p + "conv_norm.weight"] = (C,)
            out[p + "conv.weight"] = (K, C)
            out[p + "conv.bias"] = (C,)
        s = p + "seq_modeling_block."
        if c["kind"] == "transformer":
            for w in ("wq", "wk", "wv", "wo"):
                out[s + w + ".weight"] = (C, C)
            continue
        mlp = c["kind"].startswith("ttt-mlp")
        for w in ("wq", "wv", "wo"):
            out[s + w + ".weight"] = (C, C)
        if not c["share_qk"]:
            out[s + "wk.weight"] = (C, C)
        if c["use_gate"]:
            out[s + "wg.weight"] = (C, C)
        if c["share_qk"]:
            for conv in ("conv_q", "conv_k"):
                out[s + conv + ".weight"] = (K, C)
                out[s + conv + ".bias"] = (C,)
        out[s + "learnable_token_idx"] = (c["mini_batch_size"],)
        out[s + "learnable_ttt_lr_weight"] = (H, C)
        out[s + "learnable_ttt_lr_bias"] = (H,)
        out[s + "ttt_norm_weight"] = (H, d)
        out[s + "ttt_norm_bias"] = (H, d)
        out[s + "post_norm.weight"] = (C,)
        out[s + "post_norm.bias"] = (C,)
        out[s + "W1"] = (H, d, 4 * d if mlp else d)
        out[s + "b1"] = (H, 4 * d if mlp else d)
        if mlp:
            out[s + "W2"] = (H, 4 * d, d)
            out[s + "b2"] = (H, d)
    out["norm.weight"] = (C,)
    return out


# --------------------------------------------------------------------------------------------------------
# Primitives (docs/spec/ttt.md §2.1, docs/spec/mamba.md §3).

GELU_C = math.sqrt(2.0 / math.pi)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def silu(x):
    return x * sigmoid(x)


def softplus(s):
    """PyTorch softplus with threshold 20 (docs/spec/mamba.md §3 step 5)."""
    return np.where(s > 20.0, s, np.log1p(np.exp(np.minimum(s, 20.0))))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_tanh_grad(x):
    """The hand-written derivative with the literal constants of docs/spec/ttt.md §2.1 (diff_gelu / gelu_bwd)."""
    t = np.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x))
    return 0.5 * x * (1.0 - t * t) * (0.79788456 + 0.1070322243 * x * x) + 0.5 * (1.0 + t)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, g, b, eps=TTT_LN_EPS):
    """(x - mean) / sqrt(biased var + eps) * g + b, two-pass variance."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def layer_norm_vjp(z, e, g, eps=TTT_LN_EPS):
    """Gradient w.r.t. the LN input z of <e, LN(z)> (closed form of docs/spec/ttt.md §3.6)."""
    mu = z.mean(axis=-1, keepdims=True)
    s = np.sqrt(((z - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    zh = (z - mu) / s
    gh = g * e
    return (gh - gh.mean(axis=-1, keepdims=True) - zh * (gh * zh).mean(axis=-1, keepdims=True)) / s


def causal_conv(x, w, b):
    """Depthwise causal conv, cross-correlation, left zero padding: y_t = b + sum_k w[k] * x_{t-K+1+k}.
    x (B, T, C), w (K, C), b (C)."""
    K, T = w.shape[0], x.shape[1]
    xp = np.concatenate([np.zeros(x.shape[:1] + (K - 1,) + x.shape[2:]), x], axis=1)
    y = np.broadcast_to(b, x.shape).copy()
    for k in range(K):
        y += w[k] * xp[:, k:k + T]
    return y


def rope(x, pos, theta, half=False):
    """RoPE on x (B, T, H, d) at integer positions pos (T): interleaved pairs (2i, 2i+1), omega_i = theta^(-2i/d).
    half=True is the non-interleaved rotate_half layout (a negative control only)."""
    d = x.shape[-1]
    omega = theta ** (-2.0 * np.arange(d // 2) / d)
    ang = np.asarray(pos, dtype=np.float64)[:, None] * omega  # (T, d/2)
    cos, sin = np.cos(ang)[None, :, None, :], np.sin(ang)[None, :, None, :]
    if half:
        x0, x1 = x[..., : d // 2], x[..., d // 2:]
        return np.concatenate([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


def swiglu(x, w1, w3, w2):
    return (silu(x @ w1) * (x @ w3)) @ w2


# --------------------------------------------------------------------------------------------------------
# TTT inner loop, primal form (docs/spec/ttt.md §3.6-§3.8, §3.10).


def inner_fres(state, x, mlp):
    """f_res(x) for one token x (d): TTT-Linear x W + b; TTT-MLP gelu(x W1 + b1) W2 + b2."""
    if mlp:
        return gelu_tanh(x @ state["W1"] + state["b1"]) @ state["W2"] + state["b2"]
    return x @ state["W1"] + state["b1"]


def inner_token_grad(state, k, r, ln_g, ln_b, mlp, use_ln=True):
    """Gradient of l(W) = 1/2 ||LN(f_res(k; W)) - r||^2 (a sum over d, no 1/d) w.r.t. every inner tensor."""
    if mlp:
        z1 = k @ state["W1"] + state["b1"]
        x2 = gelu_tanh(z1)
        z2 = x2 @ state["W2"] + state["b2"]
        g2 = layer_norm_vjp(z2, layer_norm(z2, ln_g, ln_b) - r, ln_g) if use_ln else z2 - r
        g1 = (g2 @ state["W2"].T) * gelu_tanh_grad(z1)
        return {"W1": np.outer(k, g1), "b1": g1, "W2": np.outer(x2, g2), "b2": g2}
    z = k @ state["W1"] + state["b1"]
    g = layer_norm_vjp(z, layer_norm(z, ln_g, ln_b) - r, ln_g) if use_ln else z - r
    return {"W1": np.outer(k, g), "b1": g}


def ttt_inner_primal(q, k, v, eta_col, tau, state0, ln_g, ln_b, mlp, mini_batch, use_ln=True, residual=True,
                     target_v=False):
    """One (batch row, head). q, k, v (T, d); eta_col (T) = lr_mult * base_lr * gate_t / d (the column factor
    of eta); tau (mini_batch) = max(0, 1/(i+1) + l_i) (the row factor). state0: the learned W1, b1 (W2, b2).
    Token i of a mini-batch uses W_i = W - sum_{j<=i} tau_i eta_col_j grad_j, every grad_j at the mini-batch
    start state W; the state carried to the next mini-batch is W_{last}. A short last mini-batch (T not a
    multiple of mini_batch) uses tau_0..tau_{r-1} (§3.10). Returns (outputs (T, d), final state)."""
    T = q.shape[0]
    state = {n: a.copy() for n, a in state0.items()}
    out = np.zeros_like(q)
    for s in range(0, T, mini_batch):
        e = min(s + mini_batch, T)
        grads = [inner_token_grad(state, k[j], v[j] if target_v else v[j] - k[j], ln_g, ln_b, mlp, use_ln)
                 for j in range(s, e)]
        for i in range(e - s):
            w_i = {n: state[n] - sum(tau[i] * eta_col[s + j] * grads[j][n] for j in range(i + 1)) for n in state}
            f = inner_fres(w_i, q[s + i], mlp)
            if use_ln:
                f = layer_norm(f, ln_g, ln_b)
            out[s + i] = q[s + i] + f if residual else f
        state = w_i
    return out, state


# --------------------------------------------------------------------------------------------------------
# Sequence-modelling blocks.


def ttt_inner_inputs(P, pre, u, c, opts=(), lr_mult=1.0):
    """Q, K, V (B, T, H, d) after the views, the convs and RoPE mod mini_batch; eta_col (B, T, H); tau (m)."""
    B, T, C = u.shape
    H, d, m = c["num_heads"], head_dim(c), c["mini_batch_size"]
    if c["share_qk"]:
        s = u @ P[pre + "wq.weight"]
        q = causal_conv(s, P[pre + "conv_q.weight"], P[pre + "conv_q.bias"])
        k = causal_conv(s, P[pre + "conv_k.weight"], P[pre + "conv_k.bias"])
    else:
        q = u @ P[pre + "wq.weight"]
        k = u @ P[pre + "wk.weight"]
    v = u @ P[pre + "wv.weight"]
    pos = np.arange(T) if "rope_absolute" in opts else np.arange(T) % m
    half = "rope_half" in opts
    q = rope(q.reshape(B, T, H, d), pos, c["rope_theta"], half)
    k = rope(k.reshape(B, T, H, d), pos, c["rope_theta"], half)
    v = v.reshape(B, T, H, d)
    gate = sigmoid(u @ P[pre + "learnable_ttt_lr_weight"].T + P[pre + "learnable_ttt_lr_bias"])  # (B, T, H)
    eta_col = lr_mult * c["ttt_base_lr"] * gate / (1.0 if "no_div_d" in opts else d)
    tau = 1.0 / np.arange(1, m + 1) + P[pre + "learnable_token_idx"]
    if "no_tau_clip" not in opts:
        tau = np.maximum(tau, 0.0)
    return q, k, v, eta_col, tau


def ttt_layer(P, pre, u, c, opts=(), lr_mult=1.0):
    """TTT layer (docs/spec/ttt.md §3): u (B, T, C) seq_norm'ed -> (B, T, C)."""
    B, T, C = u.shape
    H, d, m = c["num_heads"], head_dim(c), c["mini_batch_size"]
    mlp = c["kind"].startswith("ttt-mlp")
    q, k, v, eta_col, tau = ttt_inner_inputs(P, pre, u, c, opts, lr_mult)
    z = np.zeros((B, T, H, d))
    for b in range(B):
        for h in range(H):
            state0 = {"W1": P[pre + "W1"][h], "b1": P[pre + "b1"][h]}
            if mlp:
                state0.update({"W2": P[pre + "W2"][h], "b2": P[pre + "b2"][h]})
            z[b, :, h], _ = ttt_inner_primal(q[b, :, h], k[b, :, h], v[b, :, h], eta_col[b, :, h], tau, state0,
                                             P[pre + "ttt_norm_weight"][h], P[pre + "ttt_norm_bias"][h], mlp, m,
                                             target_v="target_v" in opts)
    o = layer_norm(z.reshape(B, T, C), P[pre + "post_norm.weight"], P[pre + "post_norm.bias"])  # heads concatenated
    if c["use_gate"]:
        g = u @ P[pre + "wg.weight"]
        o = (gelu_erf(g) if "gelu_erf" in opts else gelu_tanh(g)) * o
    return o @ P[pre + "wo.weight"]


def attention_layer(P, pre, u, c, opts=()):
    """Llama-style causal self-attention, RoPE at absolute positions t (docs/spec/ttt.md §2.4)."""
    B, T, C = u.shape
    H, d = c["num_heads"], head_dim(c)
    half = "rope_half" in opts
    pos = np.arange(T) % c["mini_batch_size"] if "rope_mod" in opts else np.arange(T)
    q = rope((u @ P[pre + "wq.weight"]).reshape(B, T, H, d), pos, c["rope_theta"], half)
    k = rope((u @ P[pre + "wk.weight"]).reshape(B, T, H, d), pos, c["rope_theta"], half)
    v = (u @ P[pre + "wv.weight"]).reshape(B, T, H, d)
    scores = np.einsum("bthd,bshd->bhts", q / math.sqrt(d), k)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    o = np.einsum("bhts,bshd->bthd", p, v).reshape(B, T, C)
    return o @ P[pre + "wo.weight"]


def selective_scan_naive(u, delta, A, Bm, Cm, Dskip, return_state=False):
    """Sequential scan (docs/spec/mamba.md §3 step 6). u, delta (B, T, Di); A (Di, N); Bm, Cm (B, T, N); Dskip (Di).
    h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t, h_{-1} = 0; y_t = h_t C_t + D u_t."""
    Bsz, T, Di = u.shape
    h = np.zeros((Bsz, Di, A.shape[1]))
    y = np.zeros_like(u)
    for t in range(T):
        h = np.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * u[:, t])[:, :, None] * Bm[:, t, None, :]
        y[:, t] = (h * Cm[:, t, None, :]).sum(-1) + Dskip * u[:, t]
    return (y, h) if return_state else y


def mamba_mixer(P, pre, hdn, c, opts=()):
    """Mamba-1 mixer (docs/spec/mamba.md §3): hdn (B, T, C) normed -> (B, T, C)."""
    Di, N, R, K = mamba_dims(c)
    xz = hdn @ P[pre + "in_proj.weight"]
    x, z = xz[..., :Di], xz[..., Di:]
    xc = silu(causal_conv(x, P[pre + "conv1d.weight"], P[pre + "conv1d.bias"]))
    dbl = xc @ P[pre + "x_proj.weight"]
    dt_low, Bm, Cm = dbl[..., :R], dbl[..., R:R + N], dbl[..., R + N:]
    if "mamba_swap_bc" in opts:
        Bm, Cm = Cm, Bm
    delta = softplus(dt_low @ P[pre + "dt_proj.weight"] + P[pre + "dt_proj.bias"])
    A = -np.exp(P[pre + "A_log"])
    Dskip = np.zeros(Di) if "mamba_no_d" in opts else P[pre + "D"]
    y = selective_scan_naive(xc, delta, A, Bm, Cm, Dskip)
    return (y * silu(z)) @ P[pre + "out_proj.weight"]


# --------------------------------------------------------------------------------------------------------
# Whole model and loss.


def forward(P, c, ids, opts=(), lr_mult=1.0):
    """ids (B, T) -> logits (B, T, V') in float64. P: name -> array (any float dtype; promoted to f64)."""
    P = {n: np.asarray(a, dtype=np.float64) for n, a in P.items()}
    E = P["embed_tokens.weight"]
    h = E[np.asarray(ids)]
    eps = c["rms_norm_eps"]
    for layer in range(c["num_layers"]):
        p = "layers.%d." % layer
        if c["kind"] == "mamba":
            h = h + mamba_mixer(P, p + "mixer.", rms_norm(h, P[p + "norm.weight"], eps), c, opts)
            continue
        if c["pre_conv"]:
            h = h + causal_conv(rms_norm(h, P[p + "conv_norm.weight"], eps), P[p + "conv.weight"], P[p + "conv.bias"])
        u = rms_norm(h, P[p + "seq_norm.weight"], eps)
        s = p + "seq_modeling_block."
        h = h + (attention_layer(P, s, u, c, opts) if c["kind"] == "transformer" else ttt_layer(P, s, u, c, opts, lr_mult))
        h = h + swiglu(rms_norm(h, P[p + "ffn_norm.weight"], eps), P[p + "feed_forward.w1.weight"],
                       P[p + "feed_forward.w3.weight"], P[p + "feed_forward.w2.weight"])
    h = rms_norm(h, P["norm.weight"], eps)
    return h @ E.T


def token_xent(logits, targets):
    """Per-token cross-entropy (B, T) over all V' logits."""
    mx = logits.max(axis=-1, keepdims=True)
    lse = (mx + np.log(np.exp(logits - mx).sum(axis=-1, keepdims=True)))[..., 0]
    return lse - np.take_along_axis(logits, np.asarray(targets)[..., None], axis=-1)[..., 0]


def official_loss(logits, targets):
    """docs/spec/ttt.md §8: mask = (target != BOS); per sequence sum(mask * xent) / max(sum(mask), 1e-10);
    then the mean over rows."""
    mask = (np.asarray(targets) != BOS_ID).astype(np.float64)
    per_seq = (mask * token_xent(logits, targets)).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-10)
    return float(per_seq.mean())


# --------------------------------------------------------------------------------------------------------
# safetensors (F32 little-endian), written and read with numpy + json only.

_ST_DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


def save_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, then the data in
    sorted-name order. The header is space-padded to a multiple of 8 bytes. Every tensor is stored as F32."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    hs = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hs += b" " * (-len(hs) % 8)
    with open(path, "wb") as f:
        f.write(np.uint64(len(hs)).astype("<u8").tobytes())
        f.write(hs)
        for blob in blobs:
            f.write(blob)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int(np.frombuffer(raw[:8], dtype="<u8")[0])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[b:en], dtype=_ST_DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out
