#!/usr/bin/env bash
# Training-step tokens/s of the 125M models at T=2048, batch 1, in f32 and in bf16 mixed precision
# (docs/precision.md), interleaved A B A B ... over ROUNDS rounds in one run so that a change in the
# machine's load hits both alike; prints every measurement, then per kind the median tokens/s of each
# precision with its spread (min-max) and the median bf16/f32 ratio.
# Usage: bench/train_step_precision.sh [BUILD_DIR]   (ROUNDS=3, KINDS="transformer ...", SEQ=2048, REPS=2)
# Each measurement is the best of REPS steps (the first step also creates the GEMM primitives). Run it on
# a quiet machine: it warns when the 1-minute load average is at or above 2.5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-3}
seq=${SEQ:-2048}
reps=${REPS:-2}
kinds=${KINDS:-"transformer ttt-linear-transformer ttt-linear-mamba ttt-mlp-transformer ttt-mlp-mamba mamba"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
load=$(cut -d' ' -f1 /proc/loadavg)
echo "commit $(git -C "$root" rev-parse --short HEAD), OMP_NUM_THREADS=$OMP_NUM_THREADS, load $load, $rounds rounds, T=$seq, batch 1"
if awk -v l="$load" 'BEGIN { exit !(l >= 2.5) }'; then
  echo "warning: load average $load >= 2.5: these numbers are not a measurement of this code"
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for r in $(seq 1 "$rounds"); do
  for k in $kinds; do
    for p in fp32 bf16; do
      line=$("$build/bench/bench_models" step "$root/configs/models/$k-125m.json" --batch 1 --seq "$seq" --reps "$reps" \
        --precision "$p")
      echo "round $r: $line"
      # | kind | precision | parameters | B x T | step time | tokens/s | ...: tokens/s from the step time
      # (the printed column is rounded to whole tokens)
      tps=$(echo "$line" | awk -F'|' -v t="$seq" '{gsub(/[ s]/, "", $6); printf "%.3f", t / $6}')
      echo "$k $p $tps" >>"$results"
    done
  done
done
echo
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
kinds = list(dict.fromkeys(r[0] for r in rows))
print("| kind | f32 tokens/s median (min-max) | bf16 tokens/s median (min-max) | bf16 / f32 (median of rounds) |")
print("|---|---|---|---|")
for k in kinds:
    f = [float(r[2]) for r in rows if r[0] == k and r[1] == "fp32"]
    b = [float(r[2]) for r in rows if r[0] == k and r[1] == "bf16"]
    ratio = statistics.median(y / x for x, y in zip(f, b))
    print(f"| {k} | {statistics.median(f):.0f} ({min(f):.0f}-{max(f):.0f}) | {statistics.median(b):.0f} "
          f"({min(b):.0f}-{max(b):.0f}) | {ratio:.2f}x |")
PY
