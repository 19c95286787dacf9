#!/usr/bin/env python3
"""Writes the golden fixtures tests/golden/<kind>/ for the six model kinds from the independent float64 numpy
reference scripts/golden_reference.py. Run from anywhere:  python3 scripts/make_golden.py
The layout and the meaning of every file are in tests/golden/README.md; bump VERSION when they change.

Every parameter is perturbed away from its init (no norm weight at 1, no bias at 0, one token_idx entry
clipping tau_i to 0, a nonzero lr-gate bias, A_log = log(1..N) + noise, random D), so that a wrong
formula shows up in the logits. Parameters are rounded to f32 first and the logits computed in f64 from
the rounded values, so the C++ f32 forward sees exactly the weights the reference used."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_reference as ref  # noqa: E402

FORMAT, VERSION = "tttlm-golden", 1
SEED = 20240620
BATCH, SEQ, SEQ_SHORT = 2, 24, 20
CLIPPED_TOKEN_IDX = 2  # learnable_token_idx[2] = -0.6: tau_2 = max(0, 1/3 - 0.6) = 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model_section(kind):
    """The tiny config of each kind (the `model` section of config.json)."""
    if kind == "mamba":
        return {"kind": kind, "vocab_size": 61, "hidden_size": 32, "num_layers": 2, "max_seq_len": 32,
                "rms_norm_eps": 1e-5, "tie_word_embeddings": True,
                "mamba": {"d_state": 4, "d_conv": 4, "expand": 2, "pad_vocab_multiple": 8}}
    m = {"kind": kind, "vocab_size": 61, "hidden_size": 32, "intermediate_size": 48, "num_layers": 2, "num_heads": 4,
         "max_seq_len": 32, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": True}
    if kind == "transformer":
        m["pre_conv"] = False
        return m
    backbone = kind.endswith("-mamba")
    m.update({"pre_conv": backbone, "share_qk": backbone, "use_gate": backbone, "conv_width": 4, "mini_batch_size": 8,
              "ttt_base_lr": 0.5 if kind.startswith("ttt-mlp") else 0.8})
    return m


def random_params(c, rng):
    """Perturbed random parameters (f32), scaled so that every path visibly moves the logits."""
    P = {}
    for name, shape in ref.param_shapes(c).items():
        last = name.rsplit(".", 1)[-1] if not name.endswith(".weight") and not name.endswith(".bias") else None
        if name == "embed_tokens.weight":
            a = rng.normal(0.0, 0.4, shape)
        elif name.endswith("norm.weight"):  # RMSNorm weights and post_norm.weight
            a = 1.0 + rng.normal(0.0, 0.1, shape)
        elif name.endswith("post_norm.bias"):
            a = rng.normal(0.0, 0.1, shape)
        elif name.endswith("mixer.conv1d.weight") or name.endswith("mixer.conv1d.bias"):
            a = rng.uniform(-0.5, 0.5, shape)
        elif name.endswith("conv.weight") or name.endswith("conv_q.weight") or name.endswith("conv_k.weight"):
            a = np.clip(rng.normal(0.0, 0.5, shape), -1.0, 1.0)
        elif name.endswith(".bias") and "dt_proj" not in name:  # conv biases
            a = rng.normal(0.0, 0.1, shape)
        elif name.endswith("dt_proj.weight"):
            b = 1.0 / np.sqrt(shape[0])
            a = rng.uniform(-b, b, shape)
        elif name.endswith("dt_proj.bias"):  # inverse softplus of a log-uniform dt in [1e-3, 1e-1]
            # (docs/spec/mamba.md §7)
            dt = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), shape))
            a = dt + np.log(-np.expm1(-dt))
        elif name.endswith("A_log"):
            a = np.log(np.arange(1, shape[1] + 1, dtype=np.float64))[None, :] + rng.normal(0.0, 0.1, shape)
        elif name.endswith("mixer.D"):
            a = rng.normal(0.5, 0.5, shape)
        elif name.endswith(".weight"):  # every Linear (in, out)
            a = rng.normal(0.0, 1.0 / np.sqrt(shape[0]), shape)
        elif last == "learnable_token_idx":
            a = np.clip(rng.normal(0.0, 0.03, shape), -0.1, 0.1)
            a[CLIPPED_TOKEN_IDX] = -0.6
        elif last == "learnable_ttt_lr_weight":
            a = rng.normal(0.0, 0.1, shape)
        elif last == "learnable_ttt_lr_bias":
            a = rng.normal(0.0, 0.5, shape)
        elif last == "ttt_norm_weight":
            a = 1.0 + rng.normal(0.0, 0.1, shape)
        elif last in ("ttt_norm_bias", "b1", "b2"):
            a = rng.normal(0.0, 0.1, shape)
        elif last in ("W1", "W2"):  # (H, in, out)
            a = rng.normal(0.0, 1.0 / np.sqrt(shape[1]), shape)
        else:
            raise KeyError("no init rule for " + name)
        P[name] = np.asarray(a, dtype=np.float32)
    return P


def random_ids(rng, batch, seq, vocab):
    """Token ids in [0, vocab): BOS (1) as the first input of each row and inside the targets (masked), plus
    the extreme ids 0 and vocab-1."""
    ids = rng.integers(2, vocab, size=(batch, seq))
    ids[:, 0] = ref.BOS_ID
    ids[0, 7] = ref.BOS_ID
    ids[1, seq // 2 + 1] = ref.BOS_ID
    ids[1, seq - 3] = ref.BOS_ID
    ids[0, 3] = 0
    ids[1, 5] = vocab - 1
    return ids.astype(np.int32)


def loss_of(P, c, ids):
    """Loss with inputs ids[:, :-1] and targets ids[:, 1:] (a real forward on the shorter input)."""
    logits_in = ref.forward(P, c, ids[:, :-1])
    return ref.official_loss(logits_in, ids[:, 1:]), logits_in


def write_kind(kind, seed, out_root):
    rng = np.random.default_rng(seed)
    model = model_section(kind)
    c = ref.resolve_config(model)
    P = random_params(c, rng)  # already f32-rounded
    d = os.path.join(out_root, kind)
    os.makedirs(d, exist_ok=True)
    files = {}

    def case(tag, seq):
        ids = random_ids(rng, BATCH, seq, c["vocab_size"])
        logits = ref.forward(P, c, ids)
        loss, logits_in = loss_of(P, c, ids)
        assert np.allclose(logits_in, logits[:, :-1], rtol=0, atol=1e-12), "reference not causal"
        np.save(os.path.join(d, "ids%s.npy" % tag), ids)
        np.save(os.path.join(d, "logits%s.npy" % tag), logits.astype(np.float32))
        files["ids%s.npy" % tag] = "int32 %s" % (list(ids.shape),)
        files["logits%s.npy" % tag] = "float32 %s" % (list(logits.shape),)
        return loss, logits

    losses = {}
    losses["loss"], logits = case("", SEQ)
    if kind != "transformer" and kind != "mamba":
        losses["loss_t20"], _ = case("_t20", SEQ_SHORT)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"model": model}, f, indent=2)
        f.write("\n")
    ref.save_safetensors(os.path.join(d, "model.safetensors"), P,
                         {"format": FORMAT, "version": VERSION, "generator": "scripts/make_golden.py"})
    with open(os.path.join(d, "loss.json"), "w") as f:
        json.dump(losses, f, indent=2)
        f.write("\n")
    files.update({"config.json": "{\"model\": {...}}", "model.safetensors": "F32, names of layers/*.cpp",
                  "loss.json": ", ".join(sorted(losses))})
    meta = {"format": FORMAT, "version": VERSION, "kind": kind, "generator": "scripts/make_golden.py",
            "command": "python3 scripts/make_golden.py", "reference": "scripts/golden_reference.py (float64 numpy)",
            "seed": seed, "padded_vocab": ref.padded_vocab(c), "num_parameters": int(sum(a.size for a in P.values())),
            "ttt_lr_mult": 1.0, "logits_max_abs": float(np.abs(logits).max()), "files": files}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))
    print("%-24s %6d params  %7d bytes  %s" % (kind, meta["num_parameters"], size,
                                                "  ".join("%s=%.6f" % kv for kv in sorted(losses.items()))))
    assert size < 200 * 1024, "fixture too large"


def main():
    out_root = os.path.join(ROOT, "tests", "golden")
    for i, kind in enumerate(ref.KINDS):
        write_kind(kind, SEED + i, out_root)


if __name__ == "__main__":
    main()
