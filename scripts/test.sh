#!/usr/bin/env bash
# Builds tttlm and runs the whole test suite (what .ci/run calls). Usage: scripts/test.sh [BUILD_DIR]
# Environment: TTTLM_CUDA=EMU|AUTO|ON|OFF. The default, EMU where the CUDA toolkit's headers are installed
# (else OFF), builds the CUDA backend as C++ and runs every CUDA kernel under the CPU emulator, so the
# CUDA parity suite and the CUDA end-to-end tests run on machines without a GPU (docs/cuda_emulation.md).
# ON/AUTO build the real backend with nvcc (CUDA_ARCHS, default "90"). JOBS (default: all cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${JOBS:-$(nproc)}
default_cuda=OFF
[ -e /usr/local/cuda/include/cuda_runtime_api.h ] && default_cuda=EMU
cuda=${TTTLM_CUDA:-$default_cuda}
archs=${CUDA_ARCHS:-90}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}

cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DTTTLM_CUDA="$cuda" -DCMAKE_CUDA_ARCHITECTURES="$archs" ${TTTLM_WERROR:+-DTTTLM_WERROR=$TTTLM_WERROR}
cmake --build "$build" -j "$jobs"
cd "$build"
# Two processes share the 2 cores; each test runs with OMP_NUM_THREADS=2 (set per test).
ctest --output-on-failure -j "$jobs" --timeout 900
