#!/usr/bin/env python3
"""Writes configs/models/*.json and configs/paper/*/*.json from the tables of the official recipes
(docs/spec/ttt.md §1 and §7, docs/spec/mamba.md §1 and §8). Run from the repository root; the files are committed,
so rerun only when a table changes:  python3 scripts/make_configs.py"""
import json
import os

KINDS = ["ttt-linear-mamba", "ttt-mlp-mamba", "ttt-linear-transformer", "ttt-mlp-transformer", "transformer", "mamba"]
# size: (layers, hidden, heads, intermediate)           docs/spec/ttt.md §1
SIZES = {"125m": (12, 768, 12, 2048), "350m": (24, 1024, 16, 2736), "760m": (24, 1536, 16, 4096), "1.3b": (24, 2048, 32, 5504)}
MAMBA_SIZES = {"125m": (24, 768), "350m": (48, 1024), "760m": (48, 1536), "1.3b": (48, 2048)}  # docs/spec/mamba.md §1
# size: (total_steps, peak_lr, warmup)                   docs/spec/ttt.md §7
RECIPE = {"125m": (4800, 3e-3, 480), "350m": (13500, 1.5e-3, 1350), "760m": (29000, 1.25e-3, 2900), "1.3b": (50000, 1e-3, 5000)}


def model_section(kind, size):
    if kind == "mamba":
        if size == "tiny":
            layers, hidden = 8, 128
        else:
            layers, hidden = MAMBA_SIZES[size]
        return {"kind": kind, "vocab_size": 4096 if size == "tiny" else 32000, "hidden_size": hidden,
                "num_layers": layers, "max_seq_len": 256 if size == "tiny" else 2048}
    if size == "tiny":
        layers, hidden, heads, inter = 4, 128, 4, 352
    else:
        layers, hidden, heads, inter = SIZES[size]
    m = {"kind": kind, "vocab_size": 4096 if size == "tiny" else 32000, "hidden_size": hidden, "num_layers": layers,
         "num_heads": heads, "intermediate_size": inter, "max_seq_len": 256 if size == "tiny" else 2048}
    if kind.startswith("ttt-mlp"):
        warmup = 20 if size == "tiny" else RECIPE[size][2]
        m.update({"ttt_base_lr": 0.1, "ttt_base_lr_init": 0.01, "ttt_base_lr_warmup": warmup})
    return m


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    for kind in KINDS:
        for size in list(SIZES) + ["tiny"]:
            write(f"configs/models/{kind}-{size}.json", {"model": model_section(kind, size)})
    # Paper runs: 0.5M-token global batches (BS = 524288 / seq_len), recipe per size, fp32; each into its
    # own run directory runs/paper/DATASET-CONTEXT/KIND-SIZE.
    for dataset, seq in [("pile", 2048), ("pile", 8192), ("books", 2048), ("books", 32768)]:
        ctx = f"{seq // 1024}k"
        for kind in KINDS:
            for size in SIZES:
                steps, lr, warmup = RECIPE[size]
                cfg = {
                    "include": f"../../models/{kind}-{size}.json",
                    "model": {"max_seq_len": seq},
                    "data": {"path": f"data/{'llama-2-pile' if dataset == 'pile' else 'llama-2-books3'}", "format": "npy",
                             "seq_len": seq, "mask_bos": True},
                    "train": {"global_batch_size": 524288 // seq, "micro_batch_size": 1, "total_steps": steps,
                              "seed": 0, "precision": "fp32", "device": "cuda", "eval_every": 1000,
                              "eval_batches": 64, "checkpoint_every": 1000, "keep_last": 2,
                              "run_dir": f"runs/paper/{dataset}-{ctx}/{kind}-{size}"},
                    # decay_steps is left out: it follows total_steps, also when a run is extended on resume
                    "optimizer": {"lr": lr, "end_lr": 1e-5, "warmup_steps": warmup,
                                  "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "clip_grad_norm": 1.0},
                }
                if kind.startswith("ttt-mlp"):
                    cfg["model"]["ttt_base_lr_warmup"] = warmup
                write(f"configs/paper/{dataset}-{ctx}/{kind}-{size}.json", cfg)


if __name__ == "__main__":
    main()
