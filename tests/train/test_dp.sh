#!/usr/bin/env bash
# Data parallelism over MPI on the CPU (run by CTest with the tttlm binary as $1):
#  1. 2 ranks x accumulation 1 == 1 rank x accumulation 2 (same global batch): final weights equal within
#     rtol 1e-6 (an all-reduce may sum in another order than accumulation; with 2 ranks the sums here are
#     the same operations, and the run is in fact bitwise equal);
#  2. ranks started with different configs fail on every rank with a clear message;
#  3. a rank killed mid-run makes the job end (no hang) within the timeout.
set -euo pipefail
tttlm=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1)
"$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$tmp/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
cat >"$tmp/run.json" <<JSON
{"model": {"kind": "ttt-linear-mamba", "vocab_size": 1000, "hidden_size": 32, "num_heads": 4, "num_layers": 2,
           "intermediate_size": 48, "max_seq_len": 32, "mini_batch_size": 8},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 8, "micro_batch_size": 4, "total_steps": 4, "eval_every": 0, "checkpoint_every": 0,
           "threads": 1},
 "optimizer": {"lr": 0.01, "warmup_steps": 1}, "log": {"progress": false}}
JSON
"$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/one"
timeout 120 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/two"
/usr/bin/python3 "$root/scripts/compare_checkpoints.py" "$tmp"/one/checkpoints/step_00000004 \
  "$tmp"/two/checkpoints/step_00000004 --rtol 1e-6 --atol 1e-7
echo "ok: 2 ranks x accumulation 1 == 1 rank x accumulation 2"

if timeout 120 "${mpi[@]}" -np 1 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/bad" : \
     -np 1 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/bad" --set train.seed=7 >"$tmp/mismatch.log" 2>&1; then
  echo "FAILED: ranks with different configs trained"; exit 1
fi
grep -q "differs across ranks" "$tmp/mismatch.log" || { echo "FAILED: no clear message:"; cat "$tmp/mismatch.log"; exit 1; }
echo "ok: mismatched configs fail with a clear message"

start=$(date +%s)
set +e
timeout 120 "${mpi[@]}" -np 1 "$tttlm" train "$tmp/run.json" --quiet --set train.total_steps=100000 \
  --set optimizer.warmup_steps=10 --set train.run_dir="$tmp/kill" : -np 1 bash -c 'sleep 3; kill -9 $$' >"$tmp/kill.log" 2>&1
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { echo "FAILED: killed rank: exit $rc (124 = hung until the timeout)"; cat "$tmp/kill.log"; exit 1; }
echo "ok: a killed rank ends the job (exit $rc after ${elapsed}s)"
