#!/usr/bin/env python3
"""Runs a set of tttlm configs one after another and collects their final losses.

  python3 scripts/sweep.py CONFIG [CONFIG ...] [--tttlm build/apps/tttlm] [--set a.b=v ...] [--out sweep.json] [--plot]

Each config trains into its own run directory (train.run_dir, default runs/<config stem>); a run that already
finished is not retrained (its metrics are read back), an interrupted one is resumed, and one stopped before
its first checkpoint is started over (--overwrite). The summary
(one record per config: kind, parameters, steps, final train/eval loss, training FLOPs) goes to --out; --plot
draws the scaling curve with scripts/plot_runs.py. Example, the small-scale scaling sweep:
  python3 scripts/sweep.py configs/small/*.json --plot
"""
import argparse
import json
import os
import subprocess
import sys


def run_dir_of(tttlm, config, sets):
    out = subprocess.run([tttlm, "config", config, "--json"] + sum((["--set", s] for s in sets), []),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["train"]["run_dir"], json.loads(out)


def last_records(run_dir):
    train, ev = None, None
    path = os.path.join(run_dir, "metrics.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("type") == "eval":
                    ev = rec
                elif rec.get("type") == "train":  # skip "start" records (docs/metrics.md)
                    train = rec
    return train, ev


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--tttlm", default="build/apps/tttlm")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--out", default="sweep.json")
    ap.add_argument("--plot", action="store_true")
    a = ap.parse_args()
    summary, run_dirs = [], []
    for cfg in a.configs:
        run_dir, resolved = run_dir_of(a.tttlm, cfg, a.set)
        total = resolved["train"]["total_steps"]
        train, _ = last_records(run_dir)
        if train is None or train["step"] < total:
            cmd = [a.tttlm, "train", cfg] + sum((["--set", s] for s in a.set), [])
            if os.path.exists(os.path.join(run_dir, "checkpoints", "latest")):
                cmd = [a.tttlm, "train", run_dir, "--resume"]
            elif os.path.exists(os.path.join(run_dir, "metrics.jsonl")):
                cmd.append("--overwrite")  # stopped before its first checkpoint: nothing to resume
            print("sweep:", " ".join(cmd), flush=True)
            r = subprocess.run(cmd)
            if r.returncode != 0:
                sys.exit(f"sweep: {cfg} failed with exit code {r.returncode}")
        train, ev = last_records(run_dir)
        info = json.loads(subprocess.run([a.tttlm, "info", cfg, "--json"], check=True, capture_output=True,
                                         text=True).stdout)
        summary.append({"config": cfg, "run_dir": run_dir, "kind": resolved["model"]["kind"],
                        "parameters": info["parameters"], "steps": train["step"], "train_loss": train["loss"],
                        "eval_loss": ev["loss"] if ev else None, "flops": train.get("flops")})
        run_dirs.append(run_dir)
    with open(a.out, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"sweep: {len(summary)} runs summarised in {a.out}")
    if a.plot:
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable  # Debian's has matplotlib
        subprocess.run([python, os.path.join(os.path.dirname(__file__), "plot_runs.py"), *run_dirs, "--scaling",
                        "--out", os.path.splitext(a.out)[0] + "_plots"], check=True)


if __name__ == "__main__":
    main()
