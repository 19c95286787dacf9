#!/usr/bin/python3
"""Plots tttlm runs from their metrics.jsonl (matplotlib, PNG).

  python3 scripts/plot_runs.py RUN_DIR [RUN_DIR ...] [--out DIR] [--scaling]

Writes into --out (default: the first run's plots/ folder):
  loss_vs_step.png, loss_vs_tokens.png, loss_vs_flops.png   training and eval loss of every run
  loss_per_position.png                                      the last eval's loss at each token position
  scaling.png (with --scaling)                               final eval loss against training FLOPs, one line per model kind
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_run(run_dir):
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        sys.exit(f"plot_runs: {path} does not exist (is {run_dir} a tttlm run directory?)")
    train, evals = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_runs: {path}:{n}: not JSON ({e})")
            kind = rec.get("type")
            if kind == "eval":
                evals.append(rec)
            elif kind == "train":
                train.append(rec)
            # other kinds ("start": one per start and resume, docs/metrics.md) carry no loss
    cfg = {}
    cfg_path = os.path.join(run_dir, "config.json")
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            cfg = json.load(f)
    return {"dir": run_dir, "name": os.path.basename(os.path.normpath(run_dir)), "train": train, "eval": evals, "config": cfg}


def tokens_per_step(run):
    t = run["config"].get("train", {})
    d = run["config"].get("data", {})
    return t.get("global_batch_size", 1) * d.get("seq_len", 1)


def flops_per_token(run):
    for r in run["train"]:
        if r.get("tokens") and r.get("flops"):
            return r["flops"] / r["tokens"]
    return None


def plot_curves(runs, out):
    for xkey, label, fname in [("step", "step", "loss_vs_step.png"), ("tokens", "tokens", "loss_vs_tokens.png"),
                               ("flops", "training FLOPs", "loss_vs_flops.png")]:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for run in runs:
            tps, fpt = tokens_per_step(run), flops_per_token(run)
            def x_of(rec):
                step = rec["step"]
                if xkey == "step":
                    return step
                if xkey == "tokens":
                    return step * tps
                return step * tps * (fpt or 0)
            if run["train"]:
                ax.plot([x_of(r) for r in run["train"]], [r["loss"] for r in run["train"]], alpha=0.5, lw=1,
                        label=f"{run['name']} train")
            if run["eval"]:
                ax.plot([x_of(r) for r in run["eval"]], [r["loss"] for r in run["eval"]], marker="o", lw=2,
                        label=f"{run['name']} eval")
        ax.set_xlabel(label)
        ax.set_ylabel("loss (nats/token)")
        if xkey == "flops":
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=120)
        plt.close(fig)


def plot_per_position(runs, out):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drawn = False
    for run in runs:
        if run["eval"] and run["eval"][-1].get("loss_per_position"):
            pp = run["eval"][-1]["loss_per_position"]
            ax.plot(range(len(pp)), pp, label=f"{run['name']} (step {run['eval'][-1]['step']})")
            drawn = True
    if drawn:
        ax.set_xlabel("token position in the sequence")
        ax.set_ylabel("eval loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "loss_per_position.png"), dpi=120)
    plt.close(fig)


def plot_scaling(runs, out):
    by_kind = {}
    for run in runs:
        if not run["eval"]:
            continue
        kind = run["config"].get("model", {}).get("kind", run["name"])
        last = run["eval"][-1]
        fpt = flops_per_token(run) or 0
        by_kind.setdefault(kind, []).append((last["step"] * tokens_per_step(run) * fpt, last["loss"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, pts in sorted(by_kind.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=kind)
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs")
    ax.set_ylabel("final eval loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scaling.png"), dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out")
    ap.add_argument("--scaling", action="store_true")
    a = ap.parse_args()
    runs = [read_run(r) for r in a.runs]
    out = a.out or os.path.join(a.runs[0], "plots")
    os.makedirs(out, exist_ok=True)
    plot_curves(runs, out)
    plot_per_position(runs, out)
    if a.scaling:
        plot_scaling(runs, out)
    print(f"plots written to {out}")


if __name__ == "__main__":
    main()
