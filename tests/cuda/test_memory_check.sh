#!/usr/bin/env bash
# The memory check on a GPU, under the emulator with a small emulated device (TTTLM_CUDA_EMU_MEMORY_BYTES):
# a model whose estimate exceeds the device's free memory is refused before anything is allocated, naming
# the GPU and cudaMemGetInfo; with enough memory the same run trains. Run by CTest with tttlm as $1.
set -euo pipefail
tttlm=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$tmp/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
cat >"$tmp/run.json" <<JSON
{"include": "$root/configs/models/ttt-linear-mamba-tiny.json",
 "model": {"vocab_size": 1000, "max_seq_len": 32},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 2, "micro_batch_size": 2, "total_steps": 2, "eval_every": 0, "device": "cuda",
           "run_dir": "$tmp/run"}, "optimizer": {"warmup_steps": 1},
 "log": {"progress": false}}
JSON
if out=$(TTTLM_CUDA_EMU_MEMORY_BYTES=4000000 "$tttlm" train "$tmp/run.json" --quiet 2>&1); then
  echo "FAILED: a model larger than the emulated 4 MB GPU was not refused"; echo "$out"; exit 1
fi
echo "$out" | grep -q "free memory of GPU 0 (cudaMemGetInfo" || { echo "FAILED: the refusal does not name the GPU"; echo "$out"; exit 1; }
echo "$out" | grep -q "micro_batch_size" || { echo "FAILED: the refusal names no knob"; echo "$out"; exit 1; }
[ ! -e "$tmp/run/checkpoints" ] || { echo "FAILED: a refused run wrote checkpoints"; exit 1; }
echo "ok: refused on a 4 MB emulated GPU: $(echo "$out" | tail -1 | cut -c1-160)..."
TTTLM_CUDA_EMU_MEMORY_BYTES=4000000000 "$tttlm" train "$tmp/run.json" --quiet
[ -d "$tmp/run/checkpoints" ] || { echo "FAILED: the run with a 4 GB emulated GPU wrote no checkpoint"; exit 1; }
echo "ok: the same run trains on a 4 GB emulated GPU"
