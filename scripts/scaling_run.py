#!/usr/bin/python3
"""Trains a scaling ladder run by run, evaluates it and writes the scaling results (scripts/scaling.sh calls it).

  /usr/bin/python3 scripts/scaling_run.py [--configs DIR ...] [--kinds K,...] [--sizes S,...] [--smoke]
                                          [--out DIR] [--tttlm PATH] [--threads N] [--eval-tokens N]

--configs: folders of run configs (KIND-SIZE.json), searched one level down too (configs/scaling has ctx256/
and ctx1024/); default configs/scaling. Every run trains into its config's train.run_dir:
  - a run whose latest checkpoint is its last step is finished and skipped;
  - a run with a checkpoint resumes (`tttlm train RUN_DIR --resume`), after checking that RUN_DIR/config.json
    is the config it was started from (a config regenerated since is an error naming the run and the keys);
  - otherwise it starts (`tttlm train CONFIG`).
The driver can be killed at any time (even with SIGKILL: its tttlm child dies with it) and rerun; a lock file
in the runs' parent folder keeps two drivers off the same runs. Progress (runs done, tokens, FLOPs, ETA from
the FLOP rate measured so far) is printed every --status-every seconds; tttlm's own log goes to RUN_DIR/train.log.

Then: the final validation loss of every finished run (`tttlm eval RUN --json` over --eval-tokens tokens, the
same for all), the per-position validation loss of the largest size of each kind at the longest context
(`tttlm eval RUN --per-position --json` over --per-position-tokens tokens), and into --out (default
bench/results/scaling): table.md and table.csv (kind, size, context, parameters, tokens, training FLOPs as
docs/flops.md counts them, final validation loss, wall time), results.json (the same plus the fits),
loss_vs_flops_ctxN.png (log axes, one line per kind, the fitted power law dashed) and
per_position_ctxN.png (loss averaged over log-spaced position bins). Fits: loss = E + A * C^-alpha per kind
and context, C the training FLOPs, by least squares (scripts/scaling_fit.py), with standard errors.

--smoke: the two smallest sizes only, 6 steps each (evaluated and checkpointed every 2), run directories under
runs/scaling-smoke/ and results in runs/scaling-smoke/results: the whole pipeline in a few minutes.
"""
import argparse
import ctypes
import fcntl
import glob
import json
import math
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scaling_fit  # noqa: E402

SMOKE_SETS = ["train.total_steps=6", "train.eval_every=2", "train.eval_batches=2", "train.checkpoint_every=2",
              "log.every=1"]


def die(msg):
    sys.exit(f"scaling_run: {msg}")


def _die_with_parent():
    """In the tttlm child: ask the kernel to SIGKILL it when the driver dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def tttlm_json(tttlm, args, what):
    r = subprocess.run([tttlm] + args, capture_output=True, text=True, preexec_fn=_die_with_parent)
    if r.returncode != 0:
        die(f"{what}: `{' '.join([tttlm] + args)}` failed: {r.stderr.strip()[-600:]}")
    try:
        return json.loads(r.stdout[r.stdout.index("{"):])
    except ValueError:
        die(f"{what}: `{' '.join([tttlm] + args)}` printed no JSON: {r.stdout[-300:]}")


def read_jsonl(path):
    """The train and eval records of a metrics.jsonl (records of other types are skipped; a torn last line too)."""
    train, evals = [], []
    if not os.path.exists(path):
        return train, evals
    with open(path) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("type") == "train":
                train.append(rec)
            elif rec.get("type") == "eval":
                evals.append(rec)
    return train, evals


def checkpoint_step(run_dir):
    try:
        with open(os.path.join(run_dir, "checkpoints", "latest")) as f:
            name = f.read().strip()
        return int(name.split("_")[-1])
    except (OSError, ValueError):
        return 0


def find_configs(dirs):
    out = []
    for d in dirs:
        if os.path.isfile(d):
            out.append(d)
            continue
        if not os.path.isdir(d):
            die(f"--configs {d}: no such folder")
        found = sorted(glob.glob(os.path.join(d, "*.json")) + glob.glob(os.path.join(d, "*", "*.json")))
        found = [p for p in found if os.path.basename(p) not in ("ladder.json", "throughput.json")]
        if not found:
            die(f"--configs {d}: no KIND-SIZE.json config in it or in its subfolders")
        out += found
    return out


def describe(tttlm, path, sets):
    """Resolves a config into a run record (run_dir, kind, size, context, steps, tokens, parameters, FLOPs/token)."""
    cfg = tttlm_json(tttlm, ["config", path, "--json"] + sum((["--set", s] for s in sets), []), f"config {path}")
    try:
        kind, t = cfg["model"]["kind"], cfg["train"]
        ctx = cfg["data"]["seq_len"] or cfg["model"]["max_seq_len"]
        run_dir, steps, batch = t["run_dir"], t["total_steps"], t["global_batch_size"]
    except KeyError as e:
        die(f"{path}: the resolved config has no key {e}")
    stem = os.path.splitext(os.path.basename(path))[0]
    size = stem[len(kind) + 1:] if stem.startswith(kind + "-") else stem
    inf = tttlm_json(tttlm, ["info", path, "--json", "--seq-len", str(ctx)], f"info {path}")
    tokens = steps * batch * ctx
    return {"config": path, "resolved": cfg, "kind": kind, "size": size, "context": ctx, "run_dir": run_dir,
            "steps": steps, "tokens": tokens, "parameters": inf["parameters"], "flops_per_token": inf["flops_per_token"],
            "flops": inf["flops_per_token"] * tokens}


def diff_keys(a, b, prefix=""):
    keys = []
    for k in sorted(set(a) | set(b)):
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            keys += diff_keys(a[k], b[k], f"{prefix}{k}.")
        elif a.get(k) != b.get(k):
            keys.append(f"{prefix}{k} ({b.get(k)!r} in the run, {a.get(k)!r} now)")
    return keys


def fmt_time(s):
    if s is None or not math.isfinite(s):
        return "?"
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Ladder:
    def __init__(self, a, runs):
        self.a, self.runs = a, runs
        self.t0 = time.time()
        self.flops_done_here = 0.0  # trained by this driver, for the FLOP rate
        self.last_status = 0.0

    def progress(self, run, step):
        fracs = [(step if r is run else min(checkpoint_step(r["run_dir"]), r["steps"])) / r["steps"] for r in self.runs]
        tokens = sum(f * r["tokens"] for f, r in zip(fracs, self.runs))
        flops = sum(f * r["flops"] for f, r in zip(fracs, self.runs))
        total_tokens, total_flops = sum(r["tokens"] for r in self.runs), sum(r["flops"] for r in self.runs)
        n_done = sum(1 for f in fracs if f >= 1)
        elapsed = time.time() - self.t0
        rate = self.flops_done_here / elapsed if elapsed > 0 and self.flops_done_here > 0 else None
        eta = (total_flops - flops) / rate if rate else None
        return (f"[scaling] {n_done}/{len(self.runs)} runs done, {tokens / 1e6:.1f}M/{total_tokens / 1e6:.1f}M tokens, "
                f"{flops:.3g}/{total_flops:.3g} FLOPs ({100 * flops / max(total_flops, 1):.1f}%), "
                f"elapsed {fmt_time(elapsed)}, ETA {fmt_time(eta)}")

    def train(self, i, run):
        a = self.a
        rd = run["run_dir"]
        ck = checkpoint_step(rd)
        if ck > 0:
            with open(os.path.join(rd, "config.json")) as f:
                saved = json.load(f)
            changed = diff_keys(run["resolved"], saved)
            changed = [c for c in changed if not c.startswith("train.threads")]
            if changed:
                die(f"{rd} was trained from another config than {run['config']}: {'; '.join(changed[:4])}. "
                    f"Delete {rd} to retrain it, or restore the config")
        if ck >= run["steps"]:
            return "finished"
        if ck > 0:
            cmd = [a.tttlm, "train", rd, "--resume"]
        else:
            if os.path.exists(os.path.join(rd, "metrics.jsonl")):
                os.remove(os.path.join(rd, "metrics.jsonl"))  # killed before its first checkpoint: start over
            cmd = [a.tttlm, "train", run["config"]] + sum((["--set", s] for s in run["sets"]), [])
        if a.threads:
            cmd += ["--set", f"train.threads={a.threads}"]
        os.makedirs(rd, exist_ok=True)
        print(f"[scaling] run {i + 1}/{len(self.runs)}: {run['kind']}-{run['size']} at context {run['context']} "
              f"({run['parameters']:,} parameters, {run['steps']} steps, {run['tokens'] / 1e6:.2f}M tokens) "
              + (f"resuming from step {ck}" if ck else "starting") + f"; log {rd}/train.log", flush=True)
        t0 = time.time()
        with open(os.path.join(rd, "train.log"), "a") as log:
            log.write(f"\n# {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n")
            log.flush()
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            last_step = ck
            while p.poll() is None:
                time.sleep(1)
                if time.time() - self.last_status >= a.status_every:
                    train, _ = read_jsonl(os.path.join(rd, "metrics.jsonl"))
                    step = train[-1]["step"] if train else ck
                    self.flops_done_here += (step - last_step) / run["steps"] * run["flops"]
                    last_step = step
                    tps = train[-1].get("tokens_per_sec", 0) if train else 0
                    print(f"{self.progress(run, step)}; this run step {step}/{run['steps']} ({tps:.0f} tok/s)", flush=True)
                    self.last_status = time.time()
        self.add_wall(rd, time.time() - t0)
        if p.returncode != 0:
            tail = open(os.path.join(rd, "train.log")).read().strip().splitlines()[-3:]
            die(f"training {run['config']} failed (exit {p.returncode}); the end of {rd}/train.log:\n  " + "\n  ".join(tail))
        self.flops_done_here += (run["steps"] - last_step) / run["steps"] * run["flops"]
        return "trained"

    @staticmethod
    def add_wall(rd, secs):
        path = os.path.join(rd, "scaling_wall.json")
        total = 0.0
        if os.path.exists(path):
            with open(path) as f:
                total = json.load(f).get("wall_seconds", 0.0)
        with open(path + ".tmp", "w") as f:
            json.dump({"wall_seconds": total + secs}, f)
        os.replace(path + ".tmp", path)


def evaluate(a, run, tokens, per_position):
    """`tttlm eval` of the run's final checkpoint, cached in RUN_DIR by (step, tokens, per_position)."""
    rd = run["run_dir"]
    name = "scaling_eval_per_position.json" if per_position else "scaling_eval.json"
    path = os.path.join(rd, name)
    key = {"step": checkpoint_step(rd), "requested_tokens": tokens}
    if os.path.exists(path):
        with open(path) as f:
            cached = json.load(f)
        if all(cached.get(k) == v for k, v in key.items()):
            return cached
    bs = max(1, 4096 // run["context"])
    batches = max(1, math.ceil(tokens / (bs * run["context"])))
    device = run["resolved"].get("train", {}).get("device", "cpu")  # the paper configs evaluate on their GPU
    args = ["eval", rd, "--json", "--batch-size", str(bs), "--batches", str(batches), "--device", device]
    args += ["--per-position"] if per_position else []
    t0 = time.time()
    r = tttlm_json(a.tttlm, args, f"eval {rd}")
    r.update(key)
    r["eval_seconds"] = time.time() - t0
    with open(path + ".tmp", "w") as f:
        json.dump(r, f)
    os.replace(path + ".tmp", path)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["configs/scaling"])
    ap.add_argument("--kinds", default="transformer,mamba,ttt-linear-mamba,ttt-mlp-mamba",
                    help="comma-separated model kinds to run ('all': every kind found)")
    ap.add_argument("--sizes", default="", help="comma-separated sizes (default: all; --smoke: the two smallest)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--tttlm", default="build-scaling/apps/tttlm")
    ap.add_argument("--out", default=None)
    ap.add_argument("--threads", type=int, default=0, help="train.threads for every run (0: leave the configs' value)")
    ap.add_argument("--eval-tokens", type=int, default=131072, help="validation tokens for each run's final loss")
    ap.add_argument("--per-position-tokens", type=int, default=262144, help="validation tokens for the per-position loss")
    ap.add_argument("--status-every", type=float, default=30.0, help="seconds between progress lines")
    ap.add_argument("--no-train", action="store_true", help="only evaluate and report the runs that are finished")
    a = ap.parse_args()
    if not os.access(a.tttlm, os.X_OK):
        die(f"--tttlm {a.tttlm} is not an executable (scripts/scaling.sh builds it)")
    a.sets = []
    if a.smoke:
        a.sets = list(SMOKE_SETS)
        a.eval_tokens, a.per_position_tokens = min(a.eval_tokens, 8192), min(a.per_position_tokens, 8192)
    configs = find_configs(a.configs)
    runs = []
    for c in configs:
        sets = list(a.sets)
        if a.smoke:  # keep the smoke runs away from the real ones
            rd = tttlm_json(a.tttlm, ["config", c, "--json"], f"config {c}")["train"]["run_dir"]
            rel = rd[len("runs/scaling/"):] if rd.startswith("runs/scaling/") else rd[len("runs/"):] if rd.startswith("runs/") else rd.lstrip("/")
            sets.append("train.run_dir=runs/scaling-smoke/" + rel)
        run = describe(a.tttlm, c, sets)
        run["sets"] = sets
        runs.append(run)
    kinds = None if a.kinds == "all" else set(a.kinds.split(","))
    unknown = kinds - {r["kind"] for r in runs} if kinds else set()
    if unknown:
        die(f"--kinds: no config of kind {', '.join(sorted(unknown))} under {' '.join(a.configs)}")
    runs = [r for r in runs if kinds is None or r["kind"] in kinds]
    # Sizes ordered by the parameters of their runs (the smallest first).
    by_size = {}
    for r in runs:
        by_size[r["size"]] = min(by_size.get(r["size"], float("inf")), r["parameters"])
    sizes = sorted(by_size, key=by_size.get)
    default = sizes
    for d in a.configs:
        if os.path.exists(os.path.join(d, "ladder.json")):
            with open(os.path.join(d, "ladder.json")) as f:
                default = [s for s in json.load(f).get("default_sizes", sizes) if s in by_size] or sizes
    want = [s for s in a.sizes.split(",") if s] or (sizes[:2] if a.smoke else default)
    missing = [s for s in want if s not in by_size]
    if missing:
        die(f"--sizes: no config of size {', '.join(missing)} (sizes found: {', '.join(sizes)})")
    runs = [r for r in runs if r["size"] in want]
    runs.sort(key=lambda r: (sizes.index(r["size"]), r["context"], r["kind"]))
    seen = {}
    for r in runs:
        other = seen.setdefault(os.path.abspath(r["run_dir"]), r["config"])
        if other != r["config"]:
            die(f"{other} and {r['config']} both train into train.run_dir {r['run_dir']}; give each its own run_dir")
    if not runs:
        die("no run selected")
    out = a.out or ("runs/scaling-smoke/results" if a.smoke else "bench/results/scaling")
    lock_dir = os.path.commonpath([os.path.abspath(r["run_dir"]) for r in runs])
    if any(os.path.abspath(r["run_dir"]) == lock_dir for r in runs):
        lock_dir = os.path.dirname(lock_dir)
    os.makedirs(lock_dir, exist_ok=True)
    lock = open(os.path.join(lock_dir, ".scaling.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        die(f"another scaling driver holds {lock.name}; wait for it or stop it first")
    ladder = Ladder(a, runs)
    print(f"[scaling] {len(runs)} runs: kinds {', '.join(sorted({r['kind'] for r in runs}))}; sizes {', '.join(want)}; "
          f"contexts {', '.join(str(c) for c in sorted({r['context'] for r in runs}))}", flush=True)
    if not a.no_train:
        for i, run in enumerate(runs):
            state = ladder.train(i, run)
            if state == "finished":
                print(f"[scaling] run {i + 1}/{len(runs)}: {run['kind']}-{run['size']} at context {run['context']} "
                      f"is finished; skipped", flush=True)
        print(ladder.progress(None, 0), flush=True)
    scaling_fit.report(a, runs, out, evaluate, checkpoint_step, read_jsonl)


if __name__ == "__main__":
    main()
