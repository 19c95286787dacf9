#!/usr/bin/env bash
# bf16 mixed-precision training (docs/precision.md), run by CTest with the tttlm binary as $1 and "ON" as
# $2 when the build runs CUDA (the emulator). For each of the six tiny kinds (2 layers, 1 thread), 20 steps:
#  - the bf16 losses stay within $BOUND (relative) of the f32 run's at every step, and differ from them
#    (bf16 is really in use);
#  - two bf16 runs give the same losses and the same weights and moments, bit for bit;
#  - a bf16 run stopped after step 10 and resumed equals the uninterrupted run bit for bit;
#  - with CUDA: the same bf16 run with train.device=cuda (first 5 steps) equals the CPU bf16 losses within
#    $CUDA_BOUND relative (the same bf16 operands; only f32 summation orders differ, which can move a
#    value across a bf16 rounding boundary, so the differences are of the size of bf16's own effect;
#    tests/cuda/test_matmul_bf16.cpp shows that the CUDA product really rounds to bf16).
set -euo pipefail
tttlm=$(realpath "$1")
cuda=${2:-OFF}
BOUND=${BOUND:-5e-3}
CUDA_BOUND=${CUDA_BOUND:-5e-4}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TTTLM_CUDA_EMU_DEVICES=${TTTLM_CUDA_EMU_DEVICES:-1}
"$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$tmp/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
compare=(/usr/bin/python3 "$root/scripts/compare_checkpoints.py")
losses() { /usr/bin/python3 -c 'import json,sys; print(" ".join(repr(r["loss"]) for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "train"))' "$1/metrics.jsonl"; }
check() {  # check KIND WHAT BOUND MUST_DIFFER A_LOSSES B_LOSSES
  /usr/bin/python3 - "$@" <<'PY'
import sys
kind, what, bound, must_differ = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
a, b = [float(x) for x in sys.argv[5].split()], [float(x) for x in sys.argv[6].split()]
assert len(a) == len(b) and a, (kind, what, a, b)
worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
assert worst <= bound, f"{kind} {what}: max relative loss difference {worst:.3e} > {bound}: {a} vs {b}"
assert not must_differ or worst > 0, f"{kind} {what}: identical losses; bf16 is not in use"
print(f"ok: {kind}: {what}: max relative loss difference {worst:.3e} over {len(a)} steps (bound {bound})")
PY
}

for kind in transformer mamba ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer; do
  cat >"$tmp/$kind.json" <<JSON
{"include": "$root/configs/models/$kind-tiny.json",
 "model": {"vocab_size": 1000, "max_seq_len": 32, "num_layers": 2},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 20, "eval_every": 0, "checkpoint_every": 10,
           "keep_last": 10, "threads": 1},
 "optimizer": {"lr": 0.003, "warmup_steps": 2}, "log": {"progress": false, "every": 1}}
JSON
  "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-f32"
  "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-bf16" --set train.precision=bf16
  "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-bf16b" --set train.precision=bf16
  f32=$(losses "$tmp/$kind-f32") bf16=$(losses "$tmp/$kind-bf16") again=$(losses "$tmp/$kind-bf16b")
  check "$kind" "bf16 vs f32" "$BOUND" 1 "$f32" "$bf16"
  [ "$bf16" = "$again" ] || { echo "FAIL: $kind: two bf16 runs differ: $bf16 vs $again"; exit 1; }
  for f in model optimizer; do
    "${compare[@]}" "$tmp/$kind-bf16/checkpoints/step_00000020/$f.safetensors" \
      "$tmp/$kind-bf16b/checkpoints/step_00000020/$f.safetensors" --rtol 0 --atol 0 >/dev/null
  done
  echo "ok: $kind: two bf16 runs are bit-identical"
  # Resume: a copy whose latest checkpoint is step 10.
  cp -r "$tmp/$kind-bf16" "$tmp/$kind-resumed"
  rm -rf "$tmp/$kind-resumed/checkpoints/step_00000020"
  echo "step_00000010" >"$tmp/$kind-resumed/checkpoints/latest"
  "$tttlm" train "$tmp/$kind-resumed" --resume --quiet
  for f in model optimizer; do
    "${compare[@]}" "$tmp/$kind-bf16/checkpoints/step_00000020/$f.safetensors" \
      "$tmp/$kind-resumed/checkpoints/step_00000020/$f.safetensors" --rtol 0 --atol 0 >/dev/null
  done
  [ "$(losses "$tmp/$kind-resumed")" = "$bf16" ] || { echo "FAIL: $kind: resumed bf16 losses differ"; exit 1; }
  echo "ok: $kind: a bf16 run resumed after step 10 == the uninterrupted run, bit for bit"
  if [ "$cuda" = ON ]; then
    "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-cuda" --set train.precision=bf16 \
      --set train.device=cuda --set train.total_steps=5 --set optimizer.decay_steps=20
    cpu5=$(echo "$bf16" | cut -d' ' -f1-5) gpu=$(losses "$tmp/$kind-cuda")
    check "$kind" "bf16 cuda vs bf16 cpu" "$CUDA_BOUND" 0 "$cpu5" "$gpu"
  fi
  rm -rf "$tmp/$kind"-*
done
