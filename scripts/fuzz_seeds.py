#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (fuzz/, docs/fuzzing.md) into OUT/<harness>/: the inputs
that once crashed a harness (fuzz/corpus/<harness>/), the test fixtures (tests/data/fixtures, tests/golden,
configs) as they are, and small valid files made here for the formats the fixtures have only large examples
of (safetensors, state.json, a run config packed with its base file and --set overrides, in the harness's
"@@"-separated layout). Standard library only.

usage: fuzz_seeds.py OUT_DIR   (run from anywhere; paths are relative to the repository root)
"""
import glob
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(out, harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(out, harness, pattern):
    for i, src in enumerate(sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))):
        with open(src, "rb") as f:
            put(out, harness, "fixture_%03d_%s" % (i, os.path.basename(src)), f.read())


def safetensors(tensors, metadata=None):
    """tensors: {name: (dtype, shape, raw bytes)}, laid out in name order."""
    header, data = {}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    shutil.rmtree(out, ignore_errors=True)

    # Inputs that once crashed a harness (fixed since): replayed first in every run.
    for harness in ("npy", "bin", "safetensors", "run_config", "state_json", "tokenizer"):
        copy(out, harness, "fuzz/corpus/%s/*" % harness)
    copy(out, "npy", "tests/data/fixtures/npy/*.npy")
    copy(out, "npy", "tests/data/fixtures/tokens/**/*.npy")
    copy(out, "bin", "tests/data/fixtures/tokens/**/*.bin")
    copy(out, "tokenizer", "tests/data/fixtures/*.model")

    f32 = struct.pack("<6f", *range(6))
    put(out, "safetensors", "f32_2x3", safetensors({"w": ("F32", [2, 3], f32)}, {"format": "pt"}))
    put(out, "safetensors", "mixed", safetensors({
        "a": ("BF16", [4], b"\x80\x3f" * 4), "b": ("F64", [1], struct.pack("<d", 1.5)),
        "c": ("I32", [2], struct.pack("<2i", -1, 7)), "d": ("I64", [], struct.pack("<q", 3)),
        "e": ("U16", [0, 5], b"")}))
    put(out, "safetensors", "empty", safetensors({}))

    state = {"step": 10, "optimizer_count": 10, "world_size": 1, "seed": 0, "config_hash": "0123456789abcdef",
             "sampler": {"num_samples": 64, "global_batch": 4, "seed": 0, "order": "shuffled", "epoch": 0,
                         "position": 8},
             "model": {"kind": "transformer", "vocab_size": 61, "hidden_size": 32}}
    put(out, "state_json", "valid", json.dumps(state, indent=2))
    put(out, "state_json", "sequential", json.dumps(dict(state, sampler=dict(state["sampler"], order="sequential"))))

    for i, src in enumerate(sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/config.json")) +
                                   glob.glob(os.path.join(ROOT, "configs/models/*tiny*.json")))):
        with open(src) as f:
            model = f.read()
        put(out, "run_config", "model_%02d" % i, model)
        run = {"include": "base.json", "data": {"path": "d", "seq_len": 16},
               "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 20}}
        sets = "train.total_steps=30\noptimizer.lr=0.001\ndata.format=bin\nlog.progress=false\n"
        put(out, "run_config", "include_set_%02d" % i, json.dumps(run, indent=1) + "\n@@\n" + model + "\n@@\n" + sets)
    with open(os.path.join(ROOT, "configs/quickstart.json")) as f:
        put(out, "run_config", "quickstart", f.read())
    put(out, "run_config", "cycle", '{"include": "base.json"}\n@@\n{"include": "run.json"}\n@@\n')


if __name__ == "__main__":
    main()
