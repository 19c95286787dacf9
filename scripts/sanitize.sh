#!/usr/bin/env bash
# The sanitizer job: the CUDA emulator's tests and the CUDA parity suite built with AddressSanitizer (and
# the emulator's exact-size device allocations), so an out-of-bounds or uninitialised-size access by a
# kernel, the emulator or its stand-ins is reported. Then the hostile-input cases (the unit tests tagged
# [robust]: crafted .npy, .bin, safetensors, state.json and config files, files changed under a run; and the
# command line's bad options) under the same sanitizer, so a refusal that reads out of bounds first is caught.
# Usage: scripts/sanitize.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-asan}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DTTTLM_CUDA=EMU \
  -DTTTLM_SANITIZE=address -DTTTLM_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target test_cudaemu test_cuda test_data test_train tttlm
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 OMP_NUM_THREADS=2
"$build/tests/cudaemu/test_cudaemu"
"$build/tests/cuda/test_cuda"
echo "sanitize: the emulator's tests and the CUDA parity suite pass under AddressSanitizer"
"$build/tests/data/test_data" "[robust]"
"$build/tests/train/test_train" "[robust]"
bash "$root/tests/train/test_cli_inputs.sh" "$build/apps/tttlm" python3
echo "sanitize: the hostile-input tests ([robust] and the command line's) pass under AddressSanitizer"
