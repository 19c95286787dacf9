#!/usr/bin/env bash
# Preemption (run by CTest with the tttlm binary as $1): SIGTERM, SIGUSR1 or one SIGINT sent to a running
# `tttlm train` ends it after the current step with exit status 0, a checkpoint of that step and a line
# saying how to resume; resuming ends bit for bit where the uninterrupted run ends. A second SIGINT ends it
# at once with status 130 and no checkpoint. With mpirun, SIGTERM sent to one rank stops both ranks at the
# same step.
source "$(dirname "$0")/dp_common.sh" "$1"
steps=200
cfg=(--set train.total_steps=$steps --set train.checkpoint_every=0 --set train.eval_every=0
     --set model.hidden_size=64 --set model.intermediate_size=128 --set data.seq_len=32)
ck() { echo "$tmp/$1/checkpoints/step_$(printf %08d "$2")"; }
train_steps() { cat "$tmp/$1/metrics.jsonl" 2>/dev/null | grep -c '"type":"train"' || true; }
wait_for_steps() {  # RUN N: until metrics.jsonl of RUN holds N train records (60 s at most)
  for _ in $(seq 600); do
    [ "$(train_steps "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "FAIL: $1 logged fewer than $2 steps in 60 s"; exit 1
}
stopped_step() { sed -n 's/^step_0*//p' "$tmp/$1/checkpoints/latest"; }

"$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/full" "${cfg[@]}"
echo "reference run: $steps steps"

# One signal: exit 0, the message, a checkpoint at the step it stopped after, resume == uninterrupted.
for sig in TERM USR1 INT; do
  run=stop_$sig
  "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/$run" "${cfg[@]}" 2>"$tmp/$run.err" &
  pid=$!
  wait_for_steps $run 3
  kill -$sig $pid
  rc=0; wait $pid || rc=$?
  [ $rc -eq 0 ] || { echo "FAIL: SIG$sig: exit status $rc"; cat "$tmp/$run.err"; exit 1; }
  n=$(stopped_step $run)
  [ -n "$n" ] && [ "$n" -ge 3 ] && [ "$n" -lt $steps ] || { echo "FAIL: SIG$sig: checkpoints/latest names step '$n'"; exit 1; }
  [ "$(train_steps $run)" -eq "$n" ] || { echo "FAIL: SIG$sig: metrics.jsonl has $(train_steps $run) steps, checkpoint $n"; exit 1; }
  expect="tttlm train: received SIG$sig; checkpoint step_$(printf %08d "$n") written; resume with: tttlm train $tmp/$run --resume"
  grep -qxF "$expect" "$tmp/$run.err" || { echo "FAIL: SIG$sig: expected the line: $expect"; cat "$tmp/$run.err"; exit 1; }
  [ "$(ls "$tmp/$run/checkpoints" | grep -c '^step_')" -eq 1 ] || { echo "FAIL: SIG$sig: expected one checkpoint"; exit 1; }
  "$tttlm" train "$tmp/$run" --resume --quiet
  same_checkpoint "$(ck full $steps)" "$(ck $run $steps)" 0 0
  echo "ok: SIG$sig stopped after step $n with exit 0 and a checkpoint; resumed == uninterrupted, bit for bit"
done

# Two SIGINTs: exit 130 at once, no checkpoint. A wider model makes a step long (~1 s) so that both signals
# arrive within one step (and 50 ms apart, so that they are not merged into one pending signal).
run=int_twice
"$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/$run" "${cfg[@]}" --set model.hidden_size=512 \
  --set model.intermediate_size=4096 --set train.micro_batch_size=8 2>"$tmp/$run.err" &
pid=$!
wait_for_steps $run 1
kill -INT $pid; sleep 0.05; kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 130 ] || { echo "FAIL: two SIGINTs: exit status $rc, expected 130"; cat "$tmp/$run.err"; exit 1; }
[ -z "$(ls "$tmp/$run/checkpoints" 2>/dev/null)" ] || { echo "FAIL: two SIGINTs wrote a checkpoint"; exit 1; }
grep -q "second SIGINT; stopping now without a checkpoint" "$tmp/$run.err" || { echo "FAIL: no message"; exit 1; }
echo "ok: a second SIGINT ends the run at once with status 130 and no checkpoint"

# Two ranks, SIGTERM to one rank only: both stop after the same step; resume on 2 ranks == uninterrupted.
if command -v mpirun >/dev/null; then
  run=mpi_term
  timeout 300 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/$run" "${cfg[@]}" \
    2>"$tmp/$run.err" &
  pid=$!
  wait_for_steps $run 3
  ranks=$(pgrep -f -- "train.run_dir=$tmp/$run " | grep -vx "$pid" || true)
  rank=$(for p in $ranks; do [ "$(ps -o comm= -p "$p")" = tttlm ] && echo "$p"; done | tail -1)
  [ -n "$rank" ] || { echo "FAIL: no rank process found"; exit 1; }
  kill -TERM "$rank"
  rc=0; wait $pid || rc=$?
  [ $rc -eq 0 ] || { echo "FAIL: 2 ranks, SIGTERM to one: exit status $rc"; cat "$tmp/$run.err"; exit 1; }
  n=$(stopped_step $run)
  grep -qF "received SIGTERM; checkpoint step_$(printf %08d "$n") written" "$tmp/$run.err" || {
    echo "FAIL: 2 ranks: no stop line"; cat "$tmp/$run.err"; exit 1; }
  timeout 300 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/$run" --resume --quiet
  same_checkpoint "$(ck full $steps)" "$(ck $run $steps)" 0 0
  echo "ok: 2 ranks, SIGTERM to one rank: both stopped after step $n; resumed == uninterrupted, bit for bit"
fi
