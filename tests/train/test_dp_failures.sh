#!/usr/bin/env bash
# Failures in data-parallel runs end every rank with a clear message, never a hang (run by CTest with the
# tttlm binary as $1): ranks started with different configs; a world size that does not divide the global
# batch; a rank killed mid-run (the launcher ends the job); a rank stopped mid-run (SIGSTOP: the others
# give up after parallel.timeout_s and the launcher ends the job).
source "$(dirname "$0")/dp_common.sh" "$1"
expect_failure() {  # NAME PATTERN COMMAND...: the command fails and its output contains PATTERN
  local name=$1 pattern=$2
  shift 2
  local start rc
  start=$(date +%s)
  set +e
  timeout 120 "$@" >"$tmp/$name.log" 2>&1
  rc=$?
  set -e
  local elapsed=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    echo "FAILED: $name: exit $rc (124 = hung until the timeout)"; cat "$tmp/$name.log"; exit 1
  fi
  grep -q "$pattern" "$tmp/$name.log" || { echo "FAILED: $name: no \"$pattern\" in:"; cat "$tmp/$name.log"; exit 1; }
  echo "ok: $name (exit $rc after ${elapsed}s)"
}

expect_failure "mismatched configs fail on every rank" "differs across ranks" \
  "${mpi[@]}" -np 1 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/bad" : \
  -np 1 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/bad" --set train.seed=7
[ "$(grep -c "differs across ranks" "$tmp/mismatched configs fail on every rank.log")" -ge 2 ] || {
  echo "FAILED: not every rank reported the mismatch"; exit 1; }

expect_failure "3 ranks for a global batch of 8" "is not divisible by micro_batch_size 4 x world size 3" \
  "${mpi[@]}" -np 3 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/three"

long=(--quiet --set train.total_steps=100000 --set optimizer.warmup_steps=10 --set train.checkpoint_every=0)
expect_failure "a killed rank ends the job" "" \
  "${mpi[@]}" -np 1 "$tttlm" train "$tmp/run.json" "${long[@]}" --set train.run_dir="$tmp/kill" : \
  -np 1 bash -c 'sleep 3; kill -9 $$'

expect_failure "a stopped rank ends the job after parallel.timeout_s" "did not complete within parallel.timeout_s = 5 s" \
  "${mpi[@]}" -np 2 bash -c "if [ \"\$OMPI_COMM_WORLD_RANK\" = 1 ]; then
      \"$tttlm\" train \"$tmp/run.json\" ${long[*]} --set parallel.timeout_s=5 --set train.run_dir=\"$tmp/stop\" &
      pid=\$!; sleep 6; kill -STOP \$pid; wait \$pid
    else exec \"$tttlm\" train \"$tmp/run.json\" ${long[*]} --set parallel.timeout_s=5 --set train.run_dir=\"$tmp/stop\"; fi"

# train.device "cuda" on a machine (or build) without GPUs: every rank says why ([nccl] ...).
expect_failure "ranks without a GPU" "\[nccl\]" \
  "${mpi[@]}" -np 2 "$tttlm" train "$tmp/run.json" --quiet --set train.device=cuda --set train.run_dir="$tmp/gpu"
[ "$(grep -c "\[nccl\]" "$tmp/ranks without a GPU.log")" -ge 2 ] || { echo "FAILED: not every rank reported"; exit 1; }

# An error on rank 0 alone mid-run (its checkpoint directory cannot be made: a file is in the way) ends the
# job at once, not after parallel.timeout_s (300 s here) with rank 1 waiting in the next all-reduce.
mkdir -p "$tmp/blocked" && touch "$tmp/blocked/checkpoints"
expect_failure "an error on one rank mid-run ends the job" "error on rank 0 of 2" \
  "${mpi[@]}" -np 2 "$tttlm" train "$tmp/run.json" "${long[@]}" --set train.checkpoint_every=2 \
  --set parallel.timeout_s=300 --set train.run_dir="$tmp/blocked"
