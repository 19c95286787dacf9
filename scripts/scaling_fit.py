#!/usr/bin/python3
"""Power-law fits, tables and plots of a scaling ladder (used by scripts/scaling_run.py; numpy and matplotlib only).

  /usr/bin/python3 scripts/scaling_fit.py --selftest    checks the fit on synthetic points

fit_power_law(C, L): loss = E + A * C^-alpha by least squares. C is divided by its smallest value first
(A is reported for the original C). For a fixed alpha the model is linear in (E, A), so alpha is found by a
grid search (0.005 .. 3) of the residual sum of squares with (E, A) solved exactly, then refined by
Gauss-Newton on all three parameters. Standard errors come from the Gauss-Newton covariance
RSS / (n - 3) * (J^T J)^-1; with three points the fit is exact and the errors are undefined (NaN); with fewer
than three points there is no fit.
"""
import csv
import json
import math
import os
import sys

import numpy as np


def _solve_linear(x, y, alpha):
    X = np.stack([np.ones_like(x), x ** -alpha], axis=1)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ coef
    return coef, float(r @ r)


def fit_power_law(C, L):
    C, L = np.asarray(C, float), np.asarray(L, float)
    n = len(C)
    if n < 3 or np.any(C <= 0) or not np.all(np.isfinite(L)):
        return None
    c0 = C.min()
    x = C / c0
    grid = np.concatenate([np.linspace(0.005, 0.2, 40), np.linspace(0.2, 3.0, 113)[1:]])
    cands = [(rss, al) for al in grid for coef, rss in [_solve_linear(x, L, al)] if coef[1] > 0]
    if not cands:  # no decreasing power law: the loss does not fall with C
        return {"degenerate": "the loss does not fall with the training FLOPs; no E + A C^-alpha with A > 0 fits",
                "points": n}
    alpha = min(cands)[1]
    (E, A), _ = _solve_linear(x, L, alpha)
    p = np.array([E, A, alpha])
    for _ in range(50):  # Gauss-Newton on (E, A, alpha)
        E, A, alpha = p
        f = E + A * x ** -alpha
        J = np.stack([np.ones_like(x), x ** -alpha, -A * x ** -alpha * np.log(x)], axis=1)
        step, *_ = np.linalg.lstsq(J, L - f, rcond=None)
        new = p + step
        if new[2] <= 0 or not np.all(np.isfinite(new)):
            break
        rss_new = float(np.sum((L - new[0] - new[1] * x ** -new[2]) ** 2))
        if rss_new > float(np.sum((L - f) ** 2)) + 1e-15:
            break
        p = new
        if np.max(np.abs(step)) < 1e-12:
            break
    E, A, alpha = p
    f = E + A * x ** -alpha
    rss = float(np.sum((L - f) ** 2))
    at_bound = alpha <= grid[0] * 1.0001 or alpha >= grid[-1] * 0.9999
    J = np.stack([np.ones_like(x), x ** -alpha, -A * x ** -alpha * np.log(x)], axis=1)
    err = [float("nan")] * 3
    if n > 3:
        try:
            cov = rss / (n - 3) * np.linalg.inv(J.T @ J)
            err = [float(math.sqrt(max(v, 0.0))) for v in np.diag(cov)]
        except np.linalg.LinAlgError:
            pass
    # Back to the original C: A * (C/c0)^-alpha = (A * c0^alpha) * C^-alpha.
    scale = c0 ** alpha
    return {"E": float(E), "A": float(A * scale), "alpha": float(alpha), "E_err": err[0], "A_err": err[1] * scale,
            "alpha_err": err[2], "rms_residual": math.sqrt(rss / n), "points": n, "C_min": float(c0),
            "alpha_at_search_bound": bool(at_bound),
            "formula": "loss = E + A * C^-alpha, C = training FLOPs"}


def predict(fit, C):
    return fit["E"] + fit["A"] * np.asarray(C, float) ** -fit["alpha"]


def log_bins(per_position, n_bins=24):
    """Mean loss over log-spaced position bins: [(first position, last position, centre, mean loss)]."""
    T = len(per_position)
    edges = np.unique(np.round(np.geomspace(1, T, n_bins + 1)).astype(int))
    edges[0] = 0
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        seg = per_position[lo:hi]
        if len(seg):
            out.append((int(lo), int(hi - 1), math.sqrt(max(lo, 1) * max(hi - 1, 1)), float(np.mean(seg))))
    return out


def _plots(out, rows, fits, pp):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    files = []
    for ctx in sorted({r["context"] for r in rows}):
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for i, kind in enumerate(sorted({r["kind"] for r in rows if r["context"] == ctx})):
            pts = sorted((r["training_flops"], r["val_loss"]) for r in rows
                         if r["context"] == ctx and r["kind"] == kind and r["val_loss"] is not None)
            if not pts:
                continue
            color = f"C{i}"
            fit = fits.get(f"{kind}@{ctx}")
            fit = fit if fit and "degenerate" not in fit else None
            label = kind + (f" (alpha {fit['alpha']:.3f})" if fit else "")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=color, label=label)
            if fit:
                xs = np.geomspace(pts[0][0], pts[-1][0], 100)
                ax.plot(xs, predict(fit, xs), "--", color=color, alpha=0.6, lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training FLOPs (docs/flops.md)")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title(f"scaling at context {ctx}; dashed: E + A C^-alpha")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"loss_vs_flops_ctx{ctx}.png"
        fig.savefig(os.path.join(out, name), dpi=120)
        plt.close(fig)
        files.append(name)
    for ctx in sorted({p["context"] for p in pp}):
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for p in sorted((p for p in pp if p["context"] == ctx), key=lambda p: p["kind"]):
            ax.plot([b[2] for b in p["bins"]], [b[3] for b in p["bins"]], "o-", ms=3, label=f"{p['kind']}-{p['size']}")
        ax.set_xscale("log")
        ax.set_xlabel("token position (log-spaced bins)")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title(f"loss by position, largest size of each kind, context {ctx}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"per_position_ctx{ctx}.png"
        fig.savefig(os.path.join(out, name), dpi=120)
        plt.close(fig)
        files.append(name)
    return files


def report(a, runs, out, evaluate, checkpoint_step, read_jsonl):
    """Evaluates the finished runs, fits, and writes table.md, table.csv, results.json and the plots into out."""
    os.makedirs(out, exist_ok=True)
    rows = []
    for r in runs:
        rd = r["run_dir"]
        finished = checkpoint_step(rd) >= r["steps"]
        train, _ = read_jsonl(os.path.join(rd, "metrics.jsonl"))
        wall = None
        if os.path.exists(os.path.join(rd, "scaling_wall.json")):
            with open(os.path.join(rd, "scaling_wall.json")) as f:
                wall = json.load(f).get("wall_seconds")
        ev = evaluate(a, r, a.eval_tokens, False) if finished else None
        if ev:
            print(f"[scaling] {r['kind']}-{r['size']} ctx {r['context']}: validation loss {ev['loss']:.4f} "
                  f"over {ev['tokens']} tokens", flush=True)
        rows.append({"kind": r["kind"], "size": r["size"], "context": r["context"], "parameters": r["parameters"],
                     "tokens": r["tokens"], "steps": r["steps"],
                     "training_flops": train[-1]["flops"] if finished and train and "flops" in train[-1] else r["flops"],
                     "val_loss": ev["loss"] if ev else None, "val_tokens": ev["tokens"] if ev else None,
                     "train_seconds": sum(t.get("step_seconds", 0) for t in train) if train else None,
                     "wall_seconds": wall, "finished": finished, "run_dir": rd, "config": r["config"]})
    fits = {}
    for ctx in sorted({r["context"] for r in rows}):
        for kind in sorted({r["kind"] for r in rows}):
            pts = [(r["training_flops"], r["val_loss"]) for r in rows
                   if r["context"] == ctx and r["kind"] == kind and r["val_loss"] is not None]
            fit = fit_power_law([p[0] for p in pts], [p[1] for p in pts])
            if fit:
                fits[f"{kind}@{ctx}"] = fit
    # Per-position loss: the largest finished size of each kind at the longest context.
    pp = []
    ctx_max = max(r["context"] for r in rows)
    for kind in sorted({r["kind"] for r in rows}):
        cands = [r for r in runs if r["kind"] == kind and r["context"] == ctx_max and checkpoint_step(r["run_dir"]) >= r["steps"]]
        if not cands:
            continue
        r = max(cands, key=lambda r: r["parameters"])
        ev = evaluate(a, r, a.per_position_tokens, True)
        pp.append({"kind": kind, "size": r["size"], "context": ctx_max, "tokens": ev["tokens"], "loss": ev["loss"],
                   "bins": log_bins(ev["loss_per_position"])})
        print(f"[scaling] per-position loss of {kind}-{r['size']} at context {ctx_max} over {ev['tokens']} tokens", flush=True)
    files = _plots(out, rows, fits, pp) if rows else []
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"runs": rows, "fits": fits, "per_position": pp, "plots": files}, f, indent=1)
    cols = ["kind", "size", "context", "parameters", "tokens", "training_flops", "val_loss", "wall_seconds", "finished"]
    with open(os.path.join(out, "table.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r[c] for c in cols])
    lines = ["| kind | size | context | parameters | tokens | training FLOPs | val loss | wall time |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        loss = f"{r['val_loss']:.4f}" if r["val_loss"] is not None else "(not finished)"
        wall = f"{r['wall_seconds'] / 60:.1f} min" if r["wall_seconds"] else "-"
        lines.append(f"| {r['kind']} | {r['size']} | {r['context']} | {r['parameters']:,} | {r['tokens'] / 1e6:.2f}M "
                     f"| {r['training_flops']:.3g} | {loss} | {wall} |")
    lines += ["", "Fits: loss = E + A * C^-alpha (C = training FLOPs), least squares, standard errors in brackets "
              "(NaN with 3 points: exact fit).", "",
              "| kind | context | E | A | alpha | rms residual | points |", "|---|---:|---:|---:|---:|---:|---:|"]
    for key, ft in sorted(fits.items()):
        kind, ctx = key.split("@")
        if "degenerate" in ft:
            lines.append(f"| {kind} | {ctx} | ({ft['degenerate']}) | | | | {ft['points']} |")
            continue
        lines.append(f"| {kind} | {ctx} | {ft['E']:.4f} ({ft['E_err']:.2g}) | {ft['A']:.4g} ({ft['A_err']:.2g}) "
                     f"| {ft['alpha']:.4f} ({ft['alpha_err']:.2g}){' (search bound)' if ft['alpha_at_search_bound'] else ''} "
                     f"| {ft['rms_residual']:.4f} | {ft['points']} |")
    if not fits:
        lines.append("| (no fit: fewer than 3 finished sizes per kind and context) | | | | | | |")
    if pp:
        lines += ["", f"Per-position validation loss at context {ctx_max} (log-spaced bins; positions: mean loss):", ""]
        for p in pp:
            lines.append(f"- {p['kind']}-{p['size']} ({p['tokens']} tokens, mean {p['loss']:.4f}): "
                         + ", ".join(f"{b[0]}-{b[1]}: {b[3]:.3f}" for b in p["bins"]))
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"[scaling] results in {out}: table.md, table.csv, results.json, " + ", ".join(files), flush=True)


def _selftest():
    C = np.geomspace(1e12, 1e15, 6)
    L = 2.0 + 40.0 * C ** -0.12
    rng = np.random.default_rng(0)
    fit = fit_power_law(C, L + rng.normal(0, 1e-3, len(C)))
    assert abs(fit["alpha"] - 0.12) < 0.03 and abs(fit["E"] - 2.0) < 0.2, fit
    exact = fit_power_law(C[:3], L[:3])
    assert abs(exact["alpha"] - 0.12) < 1e-3 and math.isnan(exact["alpha_err"]), exact
    assert fit_power_law(C[:2], L[:2]) is None
    assert "degenerate" in fit_power_law(C, 3.0 + 1e-14 * C)
    bins = log_bins(list(range(1024)))
    assert bins[0][0] == 0 and bins[-1][1] == 1023
    print(f"scaling_fit selftest passed: alpha {fit['alpha']:.4f} +- {fit['alpha_err']:.4f}, E {fit['E']:.3f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        _selftest()
    else:
        sys.exit(__doc__)
