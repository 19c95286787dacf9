#!/usr/bin/env bash
# Data-parallel benchmarks on the CPU; writes bench/results/dp_cpu.txt.
#  1. all-reduce bandwidth: tttlm's bucketed gradient path against one raw MPI_Allreduce, 2 ranks;
#  2. training throughput of the tiny TTT-Linear (Mamba backbone) and of the 125M one: 1 rank x 2 threads
#     against 2 ranks x 1 thread, the same global batch. On this 2-core machine both use the same two
#     cores, so 2 ranks cannot be faster: the ratio measures what data parallelism costs (all-reduce,
#     its thread, per-rank overheads), and the exposed all-reduce time (comm_wait_seconds, the part not
#     hidden behind backward) is reported per step.
# Usage: bench/dp/run_dp_cpu.sh [BUILD_DIR]   (about 10 minutes; a quiet machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
tttlm=$build/apps/tttlm
out=$root/bench/results/dp_cpu.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
data=$root/work/quickstart/data
if [ ! -f "$data/train.npy" ]; then
  data=$tmp/data
  "$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$data" --format npy \
    --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
fi

# Median tokens/s and exposed all-reduce seconds over the steps after the first two.
summary() {
  /usr/bin/python3 - "$1" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
rows = [r for r in rows if r["type"] == "train"][2:]
tps = statistics.median(r["tokens_per_sec"] for r in rows)
wait = statistics.median(r.get("comm_wait_seconds", 0.0) for r in rows)
step = statistics.median(r["step_seconds"] for r in rows)
early = statistics.median(r.get("comm_buckets_in_backward", 0) for r in rows)
print(f"{tps:.0f} {step:.3f} {wait * 1e3:.1f} {early:.0f}")
PY
}

train() {  # NAME RANKS THREADS CONFIG STEPS GLOBAL MICRO SEQ
  local name=$1 ranks=$2 threads=$3 cfg=$4 steps=$5 global=$6 micro=$7 seq=$8
  local args=("$cfg" --quiet --set data.path="$data" --set data.format=npy
    --set train.total_steps="$steps" --set train.global_batch_size="$global" --set train.micro_batch_size="$micro"
    --set data.seq_len="$seq" --set model.max_seq_len="$seq" --set train.eval_every=0 --set train.checkpoint_every=0
    --set train.run_dir="$tmp/$name" --set optimizer.warmup_steps=2)
  if [ "$ranks" = 1 ]; then OMP_NUM_THREADS=$threads "$tttlm" train "${args[@]}"
  else "${mpi[@]}" -np "$ranks" -x OMP_NUM_THREADS="$threads" "$tttlm" train "${args[@]}"; fi
  summary "$tmp/$name/metrics.jsonl"
}

{
  echo "# Data-parallel benchmarks on the CPU: 2 Zen 5 cores, Open MPI $(mpirun --version | head -1 | awk '{print $NF}'), commit $(git -C "$root" rev-parse --short HEAD), $(date -u +%F)"
  echo "# command: bench/dp/run_dp_cpu.sh"
  echo
  OMP_NUM_THREADS=1 "${mpi[@]}" -np 2 "$build/bench/dp/bench_allreduce" --reps 5
  echo
  echo "training steps, same global batch: 1 rank x 2 threads vs 2 ranks x 1 thread (median over steps 3..N)"
  echo
  echo "| model | global batch x T | ranks x threads | tokens/s | step s | exposed all-reduce ms/step | buckets started in backward | 2-rank / 1-rank throughput |"
  echo "|---|---|---|---|---|---|---|---|"
  for spec in "tiny $root/configs/models/ttt-linear-mamba-tiny.json 12 16 8 256" \
              "125m $root/configs/models/ttt-linear-mamba-125m.json 4 2 1 1024"; do
    read -r label cfg steps global micro seq <<<"$spec"
    read -r tps1 step1 wait1 early1 <<<"$(train "$label-1" 1 2 "$cfg" "$steps" "$global" "$micro" "$seq")"
    read -r tps2 step2 wait2 early2 <<<"$(train "$label-2" 2 1 "$cfg" "$steps" "$global" "$micro" "$seq")"
    ratio=$(/usr/bin/python3 -c "print(f'{$tps2 / $tps1:.2f}')")
    echo "| ttt-linear-mamba $label | $global x $seq | 1 x 2 | $tps1 | $step1 | - | - | |"
    echo "| ttt-linear-mamba $label | $global x $seq | 2 x 1 | $tps2 | $step2 | $wait2 | $early2 | $ratio |"
  done
} | tee "$out"
