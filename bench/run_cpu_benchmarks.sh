#!/usr/bin/env bash
# Runs the CPU benchmarks whose results are committed in bench/results/ (GEMM, the TTT layer dual vs
# primal, training steps of the 125M and tiny models, greedy decoding step by step vs full recompute).
# Usage: bench/run_cpu_benchmarks.sh [BUILD_DIR]
# Takes about 16 minutes on 2 cores; run it on a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
out=$root/bench/results
mkdir -p "$out"
"$build/bench/bench_gemm" --reps 3 | tee "$out/gemm_cpu.txt"
{
  echo "commit $(git -C "$root" rev-parse --short HEAD), OMP_NUM_THREADS=$OMP_NUM_THREADS: bench_models ttt --batch 1 --reps 3; bench_models ttt --batch 4 --reps 2"
  echo
  "$build/bench/bench_models" ttt --batch 1 --reps 3
  echo
  "$build/bench/bench_models" ttt --batch 4 --reps 2
} | tee "$out/ttt_layer_cpu.txt"
{
  echo "| kind | precision | parameters | batch x T | step time | tokens/s | achieved | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|"
  for k in transformer ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer mamba; do
    "$build/bench/bench_models" step "$root/configs/models/$k-125m.json" --batch 1 --seq 2048 --reps 1
  done
  for k in transformer ttt-linear-mamba; do
    "$build/bench/bench_models" step "$root/configs/models/$k-125m.json" --batch 1 --seq 8192 --reps 1
  done
  for k in transformer ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer mamba; do
    "$build/bench/bench_models" step "$root/configs/models/$k-tiny.json" --batch 16 --seq 256 --reps 3
  done
} | tee "$out/train_step_cpu.txt"
"$build/bench/bench_loader" | tee "$out/loader_cpu.txt"
{
  echo "bench_models decode CONFIG --prompt T --new N --reps R, OMP_NUM_THREADS=$OMP_NUM_THREADS, commit $(git -C "$root" rev-parse --short HEAD)"
  echo
  echo "| kind | parameters | prompt | new | prefill | step tokens/s | end-to-end tokens/s | full-recompute tokens/s | step vs recompute | same tokens |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for k in transformer ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer mamba; do
    "$build/bench/bench_models" decode "$root/configs/models/$k-tiny.json" --prompt 128 --new 32 --reps 3
  done
  for k in ttt-linear-mamba transformer mamba; do
    "$build/bench/bench_models" decode "$root/configs/models/$k-125m.json" --prompt 128 --new 16 --reps 2
  done
  for k in ttt-linear-mamba transformer; do
    "$build/bench/bench_models" decode "$root/configs/models/$k-125m.json" --prompt 512 --new 8 --reps 1
  done
} | tee "$out/decode_cpu.txt"
