#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang, AddressSanitizer + UBSan, CUDA off) and runs each for
# SECONDS over its seed corpus (scripts/fuzz_seeds.py: the test fixtures plus small made-up files) with its
# dictionary. Exits non-zero when a harness finds a crash (the input is saved under BUILD_DIR/fuzz-crashes/);
# prints the executions and the corpus size of each. docs/fuzzing.md says what each harness covers.
# Usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS_PER_HARNESS]   (defaults: build-fuzz, 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${2:-20}
harnesses=(npy bin safetensors run_config state_json tokenizer)
declare -A dict=([npy]=npy [bin]=bin [safetensors]=safetensors [run_config]=run_config [state_json]=state_json
                 [tokenizer]=json)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTTTLM_CUDA=OFF -DTTTLM_FUZZ=ON -DTTTLM_TESTS=OFF -DTTTLM_BENCH=OFF \
  -DTTTLM_NATIVE=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${harnesses[@]/#/fuzz_}"

seeds=$build/fuzz-seeds
python3 "$root/scripts/fuzz_seeds.py" "$seeds"
crashes=$build/fuzz-crashes
mkdir -p "$crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()
for h in "${harnesses[@]}"; do
  corpus=$build/fuzz-corpus/$h  # grows across runs in the same build directory; the seeds stay as they are
  mkdir -p "$corpus"
  log=$build/fuzz-$h.log
  rc=0
  "$build/fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$root/fuzz/dict/${dict[$h]}.dict" -artifact_prefix="$crashes/$h-" "$corpus" "$seeds/$h" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz: $h: ${runs:-?} executions (${speed:-?}/s) in ${seconds} s, corpus $(ls "$corpus" | wc -l) files, exit $rc"
  if [ "$rc" -ne 0 ]; then
    failed+=("$h")
    grep -E -A25 'ERROR|runtime error|uncaught|terminate called' "$log" | head -60 || tail -40 "$log"
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $crashes; logs $build/fuzz-*.log)"
  exit 1
fi
echo "fuzz: no crash in ${#harnesses[@]} harnesses"
