#!/usr/bin/python3
"""Compares the tensors of two safetensors files (or checkpoint/model directories) and exits non-zero when
any element differs by more than atol + rtol * |b|.  Usage: compare_checkpoints.py A B [--rtol R] [--atol A]"""
import argparse
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U16": np.uint16}


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[b:en], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rtol", type=float, default=0.0)
    ap.add_argument("--atol", type=float, default=0.0)
    args = ap.parse_args()
    a, b = load(args.a), load(args.b)
    if sorted(a) != sorted(b):
        sys.exit(f"compare_checkpoints: tensor names differ: {sorted(set(a) ^ set(b))[:5]}")
    worst, bad = 0.0, []
    for name in sorted(a):
        d = np.abs(a[name].astype(np.float64) - b[name].astype(np.float64))
        worst = max(worst, float(d.max(initial=0)))
        if (d > args.atol + args.rtol * np.abs(b[name].astype(np.float64))).any():
            bad.append(name)
    print(f"{len(a)} tensors, max |diff| {worst:.3g}, {len(bad)} outside atol {args.atol} + rtol {args.rtol}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
