#!/usr/bin/env bash
# The one command a GPU machine needs. On a machine with an NVIDIA GPU (H100/H200, sm_90):
#   1. builds tttlm with the real CUDA backend (nvcc);
#   2. runs the CUDA parity suite plainly, then under compute-sanitizer memcheck, racecheck and synccheck;
#   3. trains each of the six tiny kinds 50 steps on the GPU and on the CPU and compares the losses;
#   4. times the GEMM peak (bf16 and f32 through the training path), the TTT kernels and the 125M training
#      steps of every kind (tokens/s, MFU against the measured peak, peak memory),
# and writes everything to bench/results/gpu-<device>-<date>.txt with the commit and the commands.
#
# Usage: bench/gpu/run.sh [--emulate] [BUILD_DIR]
#   --emulate: the same steps on the CPU emulator of CUDA (TTTLM_CUDA=EMU; no sanitizer, 3 training steps,
#   no timing, results to a temporary folder): what CI runs so that this script is known to work before a
#   GPU appears. Environment: STEPS (default 50), TOL (relative loss tolerance, default 2e-3 after 50 steps),
#   PARITY=0 skips step 1's plain run, PEAK_GFLOPS overrides the measured matmul peak used for MFU.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
emulate=0
if [ "${1:-}" = "--emulate" ]; then emulate=1; shift; fi
build=${1:-$root/build-gpu$([ $emulate = 1 ] && echo -emu)}
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
jobs=$(nproc)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

if [ $emulate = 1 ]; then
  mode=EMU steps=${STEPS:-3} tol=${TOL:-1e-5}
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
else
  mode=ON steps=${STEPS:-50} tol=${TOL:-2e-3}
  command -v nvidia-smi >/dev/null || { echo "bench/gpu/run.sh: no nvidia-smi: this machine has no NVIDIA driver (use --emulate)" >&2; exit 1; }
  out=$root/bench/results
fi
echo "== build ($mode) in $build"
cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DTTTLM_CUDA=$mode \
  -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build "$build" -j "$jobs" --target tttlm test_cuda bench_models
T=$build/apps/tttlm
device=$([ $emulate = 1 ] && echo "cuda-emulator" || nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-')
report=$out/gpu-$device-$(date +%Y%m%d).txt
exec > >(tee "$report") 2>&1
echo "# tttlm GPU run: $device, commit $commit, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# command: bench/gpu/run.sh $([ $emulate = 1 ] && echo --emulate) $build"
[ $emulate = 0 ] && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv

echo; echo "== 1. CUDA parity suite"
if [ "${PARITY:-1}" = 1 ]; then "$build/tests/cuda/test_cuda"; else echo "skipped (PARITY=0; CTest runs it as cuda_parity)"; fi
if [ $emulate = 0 ]; then
  for tool in memcheck racecheck synccheck; do
    echo; echo "== 1. parity suite under compute-sanitizer --tool $tool (ttt, norm, softmax, attention, scan)"
    compute-sanitizer --tool $tool --error-exitcode 1 "$build/tests/cuda/test_cuda" "[ttt],[cuda]" \
      -# --success 2>&1 | tail -3
  done
fi

echo; echo "== 2. six tiny kinds, $steps steps on cuda and on cpu (losses within $tol relative)"
data=$(mktemp -d)
"$T" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$data/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
for kind in transformer mamba ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer; do
  cat >"$data/$kind.json" <<JSON
{"include": "$root/configs/models/$kind-tiny.json", "model": {"vocab_size": 1000, "max_seq_len": 64},
 "data": {"path": "$data/data", "seq_len": 64},
 "train": {"global_batch_size": 8, "micro_batch_size": 8, "total_steps": $steps, "eval_every": 0,
           "checkpoint_every": $steps, "keep_last": 1, "threads": 2},
 "optimizer": {"lr": 0.003, "warmup_steps": 1}, "log": {"progress": false, "every": 1}}
JSON
  for dev in cpu cuda; do
    "$T" train "$data/$kind.json" --quiet --set train.run_dir="$data/$kind-$dev" --set train.device=$dev
  done
  /usr/bin/python3 - "$kind" "$data/$kind-cpu/metrics.jsonl" "$data/$kind-cuda/metrics.jsonl" "$tol" <<'PY'
import json, sys
kind, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
la = [r["loss"] for r in map(json.loads, open(a)) if r.get("type") == "train"]
lb = [r["loss"] for r in map(json.loads, open(b)) if r.get("type") == "train"]
worst = max(abs(x - y) / abs(x) for x, y in zip(la, lb))
print(f"{kind}: {len(lb)} steps, final loss cpu {la[-1]:.5f} cuda {lb[-1]:.5f}, worst relative difference {worst:.2e}")
sys.exit(0 if len(la) == len(lb) and worst <= tol else 1)
PY
done
rm -rf "$data"

if [ $emulate = 1 ]; then
  echo; echo "== 3. timing skipped under the emulator (it shows correctness, not speed)"
  exit 0
fi
echo; echo "== 3. GEMM (the peak that MFU is measured against), TTT kernels, 125M training steps"
"$build/bench/bench_models" gemm --seq 8192 --reps 5 --device cuda | tee "$build/gemm_peak.txt"
# MFU of the (f32) training steps against the measured f32 matmul rate; PEAK_GFLOPS overrides it.
peak=${PEAK_GFLOPS:-$(awk -F'|' '/matmul fp32/ {gsub(/[^0-9.]/, "", $5); print $5}' "$build/gemm_peak.txt")}
echo "| kind | precision | parameters | batch x T | step time | tokens/s | achieved | peak memory |"
echo "|---|---|---|---|---|---|---|---|"
for k in transformer ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer mamba; do
  "$build/bench/bench_models" step "$root/configs/models/$k-125m.json" --batch 8 --seq 2048 --reps 3 --device cuda \
    ${peak:+--peak $peak}
done
echo; echo "results: $report"
