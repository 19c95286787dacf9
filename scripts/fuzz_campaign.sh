#!/usr/bin/env bash
# The long fuzz campaign: each harness of fuzz/ runs until RUNS executions (default 10 million) or
# MAX_SECONDS (default 7200), one after the other, over the corpus scripts/fuzz.sh grew plus the seeds.
# Builds through scripts/fuzz.sh first (a 1-second run of each harness checks the build). Prints one table
# row per harness (executions, rate, new units, corpus size, crashes) from libFuzzer's final stats, in the
# layout of bench/results/fuzz_campaign.md. Exits non-zero if any harness crashed (input in
# BUILD_DIR/fuzz-crashes/). docs/fuzzing.md describes the harnesses.
# Usage: scripts/fuzz_campaign.sh [BUILD_DIR] [RUNS] [MAX_SECONDS]   (nice it on a shared machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-fuzz}
runs=${2:-10000000}
max_seconds=${3:-7200}
harnesses=(${HARNESSES:-npy bin safetensors run_config state_json tokenizer})
declare -A dict=([npy]=npy [bin]=bin [safetensors]=safetensors [run_config]=run_config [state_json]=state_json
                 [tokenizer]=json)
"$root/scripts/fuzz.sh" "$build" 1 >/dev/null
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
crashes=$build/fuzz-crashes
echo "| harness | commit | executions | wall (s) | exec/s | new units | corpus files | crashes |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
failed=0
for h in "${harnesses[@]}"; do
  corpus=$build/fuzz-corpus/$h
  log=$build/fuzz-campaign-$h.log
  start=$(date +%s)
  rc=0
  "$build/fuzz/fuzz_$h" -runs="$runs" -max_total_time="$max_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$root/fuzz/dict/${dict[$h]}.dict" -artifact_prefix="$crashes/$h-" \
    "$corpus" "$build/fuzz-seeds/$h" >"$log" 2>&1 || rc=$?
  wall=$(( $(date +%s) - start ))
  stat() { sed -n "s/^stat::$1: *//p" "$log"; }
  n_crash=0; [ "$rc" -ne 0 ] && { n_crash=1; failed=1; }
  echo "| $h | $commit | $(stat number_of_executed_units) | $wall | $(stat average_exec_per_sec) | $(stat new_units_added) | $(ls "$corpus" | wc -l) | $n_crash |"
done
exit $failed
