#!/usr/bin/python3
"""Writes configs/scaling/ctx256/KIND-SIZE.json and configs/scaling/ctx1024/KIND-SIZE.json: the paper's
scaling ladder shrunk to what a 2-core CPU trains in about three hours (scripts/scaling.sh runs it).

  /usr/bin/python3 scripts/make_scaling_configs.py [--tttlm build-scaling/apps/tttlm] [--tokens-per-param R]

The rules (every number below is a constant of this file):

Shapes. The paper's ladder (configs/models/*-{125m,350m,760m,1.3b}.json) is, for the TTT kinds and the
Transformer, layers 12/24/24/24, width 768/1024/1536/2048, heads 12/16/16/32 (head_dim 64/64/96/64) and an
MLP of 2048/2736/4096/5504 (about 8/3 of the width); the Mamba baseline has the same widths at twice the
depth (24/48/48/48) and no MLP. Each rung here divides the paper's width by WIDTH_DIV (16), its depth by
DEPTH_DIV (3) and its heads by HEADS_DIV (4), so width, depth and heads grow together with the paper's
ratios and head_dim is the paper's divided by 4 (16/16/24/16); the MLP width is 8/3 of the width rounded
up to a multiple of 8; Mamba keeps twice the depth. One rung is added below the paper's smallest by
applying the 350m -> 125m step once more (width x 3/4 rounded to 32, depth / 2, head_dim 16), because with a
4096-token vocabulary the tied embedding (4096 x width) is a large share of a small model, and four rungs
would span less than 8x in parameters. TTT mini-batch: 16 tokens (the paper's b for every size), so
every max_seq_len is a multiple of 16; TTT-MLP keeps the paper's inner lr 0.1 with its warmup from 0.01
over the outer warmup steps. Vocabulary 4096 (scripts/scaling_data.sh trains the tokenizer).

Optimisation (the paper's recipe, configs/paper): AdamW 0.9/0.95, weight decay 0.1, clip 1.0; peak lr per
rung as the paper's per size (3e-3, 1.5e-3, 1.25e-3, 1e-3; the added bottom rung takes the smallest
size's 3e-3); warmup 10% of the steps, then cosine to end_lr 1e-5 at the last step. Batches hold
BATCH_TOKENS (4096) tokens at both contexts (16 x 256 and 4 x 1024), as the paper keeps 0.5M tokens
per batch at every context.

Contexts: 256 and 1024 (the paper's 2k and 8k scaled by 1/8, keeping their 1:4 ratio). Every kind at a rung
trains on the same number of tokens at both contexts (the paper's steps depend on the size only).

Token budget: tokens = tokens_per_param x the rung's nominal parameter count (the TTT-Linear, Mamba
backbone, count at that rung, as the paper names its sizes by one count for all kinds), rounded up to whole
batches. The ladder's time is the sum over runs of tokens / (tokens/s) = tokens_per_param x T1, with
T1 = sum over runs of nominal / (tokens/s). tokens/s of each kind, size and context is measured by
`--measure` into configs/scaling/throughput.json: a 6-step run on 2 threads, its CPU time (user + sys,
OMP_WAIT_POLICY=PASSIVE) divided by 2, since wall-clock step times on the shared 2-core machine varied
5-10x with the other jobs (see measure()). tokens_per_param is then the largest multiple of 0.25, at most
20 (Chinchilla), for which the four main kinds over the DEFAULT_RUNGS smallest rungs at both contexts take
BUDGET_HOURS (3). The numbers of the committed configs:

  tokens/s (2 cores)      160k@256  160k@1024   320k@256  320k@1024   690k@256  690k@1024   1.3m@256  1.3m@1024
  transformer                28791      24484      20612      16015      11498       9340       8945       5377
  mamba                      20682      21250      12693      11688       5988       6406       3849       4090
  ttt-linear-mamba           26473      28002      18924      19702      12633      11869       5645       6663
  ttt-mlp-mamba              28710      25011      17167      16078       9122       8437       2986       3175

  T1 = 3175 s per token/param (nominal sizes 158,852, 315,388, 685,792, 1,317,376); 20 tokens/param: 17.6 h;
  3 h / T1 = 3.40 -> 3.25 tokens/param: 2.87 h of training
  (evaluations add a few minutes). The largest default run, 1.3m, trains on 4.28M tokens: 0.28 of the
  15.06M training tokens, so no token is seen twice; the optional 2.2m rung reads 7.0M (0.46).

Each config has its own run_dir, runs/scaling/ctxN/KIND-SIZE, and data.path work/scaling/data.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile

KINDS = ["transformer", "mamba", "ttt-linear-mamba", "ttt-mlp-mamba", "ttt-linear-transformer", "ttt-mlp-transformer"]
MAIN_KINDS = KINDS[:4]  # what scripts/scaling.sh runs unless KINDS is set
# The paper's ladder: name, layers, width, heads, MLP width, Mamba layers, peak lr (configs/models, configs/paper).
PAPER = [("125m", 12, 768, 12, 2048, 24, 3e-3), ("350m", 24, 1024, 16, 2736, 48, 1.5e-3),
         ("760m", 24, 1536, 16, 4096, 48, 1.25e-3), ("1.3b", 24, 2048, 32, 5504, 48, 1e-3)]
WIDTH_DIV, DEPTH_DIV, HEADS_DIV = 16, 3, 4
VOCAB = 4096
MINI_BATCH = 16
CONTEXTS = [256, 1024]
BATCH_TOKENS = 4096
WARMUP_FRACTION = 0.1
END_LR = 1e-5
BUDGET_HOURS = 3.0
DEFAULT_RUNGS = 4  # scripts/scaling.sh runs the 4 smallest rungs unless SIZES names others
DATA_PATH = "work/scaling/data"


def round_up(x, m):
    return int(math.ceil(x / m) * m)


def ladder():
    """[(size name, layers, width, heads, mlp width, mamba layers, peak lr)], smallest first."""
    rungs = []
    for _, layers, width, heads, _, mamba_layers, lr in PAPER:
        w = width // WIDTH_DIV
        rungs.append([layers // DEPTH_DIV, w, heads // HEADS_DIV, round_up(w * 8 / 3, 8), mamba_layers // DEPTH_DIV, lr])
    # The added bottom rung: the 350m -> 125m step applied to the smallest rung.
    l0, w0, _, _, m0, lr0 = rungs[0]
    w = max(32, int(round(w0 * 3 / 4 / 32)) * 32)
    rungs.insert(0, [max(1, l0 // 2), w, w // 16, round_up(w * 8 / 3, 8), max(2, m0 // 2), lr0])
    return rungs


def model_section(kind, rung, ctx):
    layers, width, heads, mlp, mamba_layers, _ = rung
    if kind == "mamba":
        return {"kind": kind, "vocab_size": VOCAB, "hidden_size": width, "num_layers": mamba_layers, "max_seq_len": ctx}
    m = {"kind": kind, "vocab_size": VOCAB, "hidden_size": width, "num_layers": layers, "num_heads": heads,
         "intermediate_size": mlp, "max_seq_len": ctx}
    if kind != "transformer":
        m["mini_batch_size"] = MINI_BATCH
    if kind.startswith("ttt-mlp"):
        m.update({"ttt_base_lr": 0.1, "ttt_base_lr_init": 0.01})
    return m


def info(tttlm, model, ctx):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"model": model}, f)
        path = f.name
    try:
        r = subprocess.run([tttlm, "info", path, "--json", "--seq-len", str(ctx)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"make_scaling_configs: `{tttlm} info` rejected the model {json.dumps(model)}: {r.stderr.strip()}")
        return json.loads(r.stdout)
    finally:
        os.unlink(path)


def size_name(params):
    return f"{round(params / 1e3, -1):.0f}k" if params < 1e6 else f"{params / 1e6:.1f}m"


def train_cfg(kind, rung, ctx, steps, warmup, size):
    model = model_section(kind, rung, ctx)
    if kind.startswith("ttt-mlp"):
        model["ttt_base_lr_warmup"] = warmup
    batch = BATCH_TOKENS // ctx
    return {
        "model": model,
        "data": {"path": DATA_PATH, "format": "npy", "seq_len": ctx, "mask_bos": True,
                 "tokenizer": f"{DATA_PATH}/tokenizer.model"},
        "train": {"global_batch_size": batch, "micro_batch_size": batch, "total_steps": steps, "seed": 0,
                  "device": "cpu", "eval_every": max(1, steps // 4), "eval_batches": 8,
                  "checkpoint_every": max(1, steps // 10), "keep_last": 2,
                  "run_dir": f"runs/scaling/ctx{ctx}/{kind}-{size}"},
        "optimizer": {"lr": rung[5], "end_lr": END_LR, "warmup_steps": warmup, "decay_steps": steps,
                      "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "clip_grad_norm": 1.0},
        "log": {"every": 10},
    }


def measure(tttlm, rungs, sizes, kinds, out, steps=6, threads=2):
    """tokens/s of each (kind, size, context) on `threads` cores, from the CPU time of a short run.

    The development machine is shared, so wall-clock step times vary several-fold with the other jobs; the
    CPU time of the run (user + sys of the child, OMP_WAIT_POLICY=PASSIVE so that waiting threads do not
    spin) divided by `threads` is what the run takes on `threads` idle cores when the parallel parts scale.
    It includes the start-up, one evaluation batch and the final checkpoint, so it errs on the slow side."""
    result = {}
    if os.path.exists(out):
        with open(out) as f:
            result = json.load(f)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    for i, rung in enumerate(rungs):
        for ctx in CONTEXTS:
            for kind in kinds:
                key = f"{sizes[i]}@{ctx}"
                if key in result.get(kind, {}):
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    cfg = train_cfg(kind, rung, ctx, steps, 1, sizes[i])
                    cfg["train"].update({"eval_every": 0, "eval_batches": 1, "checkpoint_every": 0, "threads": threads,
                                         "run_dir": os.path.join(tmp, "run")})
                    cfg["log"]["progress"] = False
                    path = os.path.join(tmp, "c.json")
                    with open(path, "w") as f:
                        json.dump(cfg, f)
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    r = subprocess.run([tttlm, "train", path], capture_output=True, text=True, env=env)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if r.returncode != 0:
                        sys.exit(f"make_scaling_configs: measuring {kind} {sizes[i]} at {ctx} failed: {r.stderr.strip()[-400:]}")
                    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                    tps = steps * BATCH_TOKENS / (cpu / threads)
                result.setdefault(kind, {})[key] = round(tps, 1)
                print(f"  measured {kind:24s} {key:10s} {tps:8.0f} tokens/s ({cpu:.1f} CPU s for {steps} steps)", flush=True)
                with open(out, "w") as f:
                    json.dump(result, f, indent=2)
                    f.write("\n")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tttlm", default="build-scaling/apps/tttlm")
    ap.add_argument("--out", default="configs/scaling")
    ap.add_argument("--tokens-per-param", type=float, help="default: the most (at most 20) that fits --budget-hours")
    ap.add_argument("--budget-hours", type=float, default=BUDGET_HOURS)
    ap.add_argument("--measure", action="store_true",
                    help="time a few steps of every main kind, size and context into OUT/throughput.json first")
    a = ap.parse_args()
    if not os.access(a.tttlm, os.X_OK):
        sys.exit(f"make_scaling_configs: --tttlm {a.tttlm} is not an executable (build tttlm first)")
    rungs = ladder()
    nominal = [info(a.tttlm, model_section("ttt-linear-mamba", r, CONTEXTS[0]), CONTEXTS[0])["parameters"] for r in rungs]
    sizes = [size_name(n) for n in nominal]
    os.makedirs(a.out, exist_ok=True)
    tp_path = os.path.join(a.out, "throughput.json")
    if a.measure:
        measure(a.tttlm, rungs[:DEFAULT_RUNGS], sizes, MAIN_KINDS, tp_path)
    tput = {}
    if os.path.exists(tp_path):
        with open(tp_path) as f:
            tput = json.load(f)
    # Seconds of the main kinds' ladder per token/param: the sum over runs of nominal / (tokens/s).
    per_unit, missing = 0.0, []
    for i in range(DEFAULT_RUNGS):
        for ctx in CONTEXTS:
            for kind in MAIN_KINDS:
                tps = tput.get(kind, {}).get(f"{sizes[i]}@{ctx}")
                if tps:
                    per_unit += nominal[i] / tps
                else:
                    missing.append(f"{kind} {sizes[i]}@{ctx}")
    r = a.tokens_per_param
    if r is None:
        if missing:
            sys.exit(f"make_scaling_configs: {tp_path} lacks {', '.join(missing[:3])}...: run with --measure "
                     "or give --tokens-per-param")
        r = min(20.0, math.floor(a.budget_hours * 3600 / per_unit * 4) / 4)
    if not missing:
        print(f"budget: {per_unit / 3600:.3f} h per token/param for the main kinds' ladder; "
              f"20 tokens/param would take {20 * per_unit / 3600:.1f} h; {r} tokens/param takes {r * per_unit / 3600:.2f} h")
    total_s, rows, manifest = 0.0, [], []
    for i, rung in enumerate(rungs):
        steps = max(10, int(math.ceil(r * nominal[i] / BATCH_TOKENS)))
        warmup = max(1, int(round(WARMUP_FRACTION * steps)))
        for ctx in CONTEXTS:
            for kind in KINDS:
                cfg = train_cfg(kind, rung, ctx, steps, warmup, sizes[i])
                path = os.path.join(a.out, f"ctx{ctx}", f"{kind}-{sizes[i]}.json")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    json.dump(cfg, f, indent=2)
                    f.write("\n")
                inf = info(a.tttlm, cfg["model"], ctx)
                tps = tput.get(kind, {}).get(f"{sizes[i]}@{ctx}")
                est = steps * BATCH_TOKENS / tps if tps else None
                if kind in MAIN_KINDS and est and i < DEFAULT_RUNGS:
                    total_s += est
                manifest.append({"config": path, "kind": kind, "size": sizes[i], "rung": i, "context": ctx,
                                 "parameters": inf["parameters"], "nominal_parameters": nominal[i],
                                 "tokens": steps * BATCH_TOKENS, "steps": steps, "lr": rung[5],
                                 "flops_per_token": inf["flops_per_token"],
                                 "training_flops": inf["flops_per_token"] * steps * BATCH_TOKENS,
                                 "measured_tokens_per_sec": tps, "estimated_seconds": est})
                rows.append(f"  ctx{ctx:<5d} {kind:24s} {sizes[i]:6s} {inf['parameters']:>9,d} params {steps:5d} steps "
                            f"{steps * BATCH_TOKENS / 1e6:6.2f}M tokens lr {rung[5]:.2e}"
                            + (f" {tps:7.0f} tok/s ~{est / 60:5.1f} min" if est else ""))
    with open(os.path.join(a.out, "ladder.json"), "w") as f:
        json.dump({"tokens_per_param": r, "batch_tokens": BATCH_TOKENS, "main_kinds": MAIN_KINDS,
                   "default_sizes": sizes[:DEFAULT_RUNGS], "sizes": sizes,
                   "estimated_hours_main_kinds": round(total_s / 3600, 2) if not missing else None,
                   "runs": manifest}, f, indent=2)
        f.write("\n")
    print("\n".join(rows))
    if total_s and not missing:
        print(f"estimated time of the main kinds' ladder (both contexts): {total_s / 3600:.2f} h at {r} tokens/param")
    print(f"wrote {len(manifest)} configs and ladder.json under {a.out}")


if __name__ == "__main__":
    main()
