#!/usr/bin/env bash
# Data parallelism over MPI on the CPU, 2 ranks (run by CTest with the tttlm binary as $1). What must hold:
#  - 2 ranks x accumulation 1 == 1 rank x accumulation 2, weights and AdamW moments bit for bit, with one
#    gradient bucket and with many (1 KiB buckets, started during backward): with 2 ranks the all-reduce
#    computes a + b, the same operation as accumulating two micro-batches;
#  - 2 ranks x accumulation 2 == 1 rank x accumulation 4 within rtol 1e-5, atol 1e-6: the ranks sum
#    (g1 + g2) + (g3 + g4) where one rank sums ((g1 + g2) + g3) + g4, so gradients differ by fp32 rounding
#    (~1e-7 relative); AdamW's g / sqrt(v) passes that on to 4 steps of updates of size lr = 0.01;
#  - ZeRO-1 == plain data parallelism, bit for bit (same arithmetic per parameter, moments gathered);
#  - a 2-rank ZeRO-1 run resumes on 2 ranks bit for bit; a checkpoint of a 2-rank run resumes on 1 rank, and one of a 1-rank run on 2 ranks with ZeRO-1,
#    each equal bit for bit to the uninterrupted run (the global batch stays 8 sequences).
source "$(dirname "$0")/dp_common.sh" "$1"
run1() { local dir=$1; shift; "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/$dir" "$@"; }
run2() { local dir=$1; shift; timeout 300 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/$dir" "$@"; }
ck() { echo "$tmp/$1/checkpoints/step_0000000$2"; }

run1 one
run2 two
run2 buckets --set parallel.bucket_mb=0.001
same_checkpoint "$(ck one 4)" "$(ck two 4)" 0 0
same_checkpoint "$(ck one 4)" "$(ck buckets 4)" 0 0
echo "ok: 2 ranks x accumulation 1 == 1 rank x accumulation 2, bit for bit (1 bucket and 1 KiB buckets)"

run1 one_acc4 --set train.micro_batch_size=2
run2 two_acc2 --set train.micro_batch_size=2 --set parallel.bucket_mb=0.001
same_checkpoint "$(ck one_acc4 4)" "$(ck two_acc2 4)" 1e-5 1e-6
echo "ok: 2 ranks x accumulation 2 == 1 rank x accumulation 4 (rtol 1e-5, atol 1e-6)"

run2 zero --set parallel.zero1=true
same_checkpoint "$(ck two 4)" "$(ck zero 4)" 0 0
run2 zero_acc2 --set parallel.zero1=true --set train.micro_batch_size=2 --set parallel.bucket_mb=0.001
same_checkpoint "$(ck two_acc2 4)" "$(ck zero_acc2 4)" 0 0
echo "ok: ZeRO-1 == plain data parallelism, bit for bit (weights and gathered moments)"

rewind() {  # copy run $1 to $2 and make its step-2 checkpoint the latest, as if killed after step 2
  cp -r "$tmp/$1" "$tmp/$2"
  rm -rf "$(ck "$2" 4)"
  echo "step_00000002" >"$tmp/$2/checkpoints/latest"
}
rewind zero zero_resumed
timeout 300 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/zero_resumed" --resume --quiet
same_checkpoint "$(ck zero 4)" "$(ck zero_resumed 4)" 0 0
echo "ok: a 2-rank ZeRO-1 run resumed on 2 ranks == the uninterrupted run"
rewind two two_to_one
"$tttlm" train "$tmp/two_to_one" --resume --quiet
same_checkpoint "$(ck one 4)" "$(ck two_to_one 4)" 0 0
rewind one one_to_two
timeout 300 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/one_to_two" --resume --quiet --set parallel.zero1=true
same_checkpoint "$(ck one 4)" "$(ck one_to_two 4)" 0 0
echo "ok: resume on another world size (2 -> 1 ranks, 1 -> 2 ranks with ZeRO-1) == the uninterrupted run"
