#!/usr/bin/env bash
# Every kernel launch in kernels/cuda (each TTT_LAUNCH / TTT_LAUNCH_FN line) must have run in the CUDA parity
# suite, as logged by the emulator (TTTLM_CUDA_EMU_LAUNCH_LOG). Usage: kernel_coverage.sh SOURCE_DIR LOG
set -euo pipefail
root=$1 log=$2
[ -s "$log" ] || { echo "no launch log at $log (did cuda_parity run under the emulator?)"; exit 1; }
sites=$(cd "$root" && grep -n "TTT_LAUNCH" kernels/cuda/*.cu | grep -v "#define" | cut -d: -f1,2 | sort -u)
ran=$(sed 's|.*kernels/cuda/|kernels/cuda/|' "$log" | cut -d' ' -f1 | sort -u)
missing=$(comm -23 <(echo "$sites") <(echo "$ran"))
echo "$(echo "$sites" | wc -l) launch sites in kernels/cuda, $(echo "$ran" | wc -l) ran in the parity suite"
if [ -n "$missing" ]; then
  echo "launch sites the CUDA parity suite never ran:"
  echo "$missing"
  exit 1
fi
echo "ok: every launch site ran"
