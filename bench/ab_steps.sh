#!/usr/bin/env bash
# Two builds of bench_models compared on the same machine in one run, interleaved (A, B, A, B, ...), so that
# the load of a shared machine falls on both alike: the TTT inner loop (bench_models ttt) and one training
# step of the 125M TTT-Linear and TTT-MLP (Mamba backbone) at T=2048. Prints every round's numbers and the
# range per binary; judge a difference against that spread, not against one pair.
# Usage: bench/ab_steps.sh BENCH_MODELS_A BENCH_MODELS_B [ROUNDS]   (OMP_NUM_THREADS defaults to 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a=$1 b=$2 rounds=${3:-3}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
echo "A: $a"; echo "B: $b"; echo "rounds: $rounds, OMP_NUM_THREADS=$OMP_NUM_THREADS, $(date -u +%FT%TZ)"
for r in $(seq "$rounds"); do
  for side in A B; do
    bin=$a; [ "$side" = B ] && bin=$b
    echo "== round $r $side: ttt --batch 1 --reps 3"
    "$bin" ttt --batch 1 --reps 3 | grep -E '^\| TTT'
    for k in ttt-linear-mamba ttt-mlp-mamba; do
      echo "== round $r $side: step $k-125m --batch 1 --seq 2048 --reps 1"
      "$bin" step "$root/configs/models/$k-125m.json" --batch 1 --seq 2048 --reps 1 | grep -E '^\| (ttt|mamba|transformer)'
    done
  done
done
