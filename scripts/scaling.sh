#!/usr/bin/env bash
# The scaling-curve experiment at CPU scale, in one command (docs/scaling.md):
#   build tttlm (CPU backend) -> the corpus (scripts/scaling_data.sh) -> train every run of the ladder in
#   configs/scaling (skipping finished runs, resuming unfinished ones) -> final validation loss of every run,
#   per-position loss of the largest size of each kind at context 1024 -> bench/results/scaling/ (table,
#   loss-vs-FLOPs plots with power-law fits, per-position plot). Kill it at any time (Ctrl-C, SIGKILL) and
#   rerun it: it continues where the runs' checkpoints stopped.
# Knobs (environment):
#   SCALING_SMOKE=1   the two smallest sizes, 6 steps each, runs in runs/scaling-smoke/, results in
#                     runs/scaling-smoke/results: the whole pipeline in a few minutes
#   KINDS             comma-separated kinds (default transformer,mamba,ttt-linear-mamba,ttt-mlp-mamba; "all"
#                     adds the Transformer-backbone TTT kinds)
#   SIZES             comma-separated sizes (default: every size in the configs)
#   CONFIGS           config folders (default configs/scaling; e.g. "configs/paper/pile-2k configs/paper/pile-8k"
#                     on GPUs: the corpus step is then skipped, and data.path must point at the tokenized Pile)
#   OUT               results folder (default bench/results/scaling)
#   THREADS           train.threads for every run (default: the configs' value, 0 = all cores)
#   EVAL_TOKENS, PER_POSITION_TOKENS   validation tokens of the final losses (131072) and per-position loss (262144)
#   BUILD_DIR         (default build-scaling), TTTLM_CUDA (default OFF), SKIP_INSTALL=1 (packages present)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build-scaling}
CONFIGS=${CONFIGS:-configs/scaling}
tttlm=$BUILD_DIR/apps/tttlm
PY=/usr/bin/python3

if [ ! -x "$tttlm" ]; then
  echo "== scaling: building tttlm in $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTTTLM_CUDA="${TTTLM_CUDA:-OFF}" \
    -DTTTLM_TESTS=OFF -DTTTLM_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target tttlm
fi
if [ "$CONFIGS" = configs/scaling ]; then
  TTTLM="$tttlm" scripts/scaling_data.sh
fi
$PY -c 'import numpy, matplotlib' 2>/dev/null || {
  echo "scaling: $PY lacks numpy or matplotlib (apt-get install python3-numpy python3-matplotlib)" >&2; exit 1; }

args=(--tttlm "$tttlm" --configs $CONFIGS)
[ "${SCALING_SMOKE:-0}" = 1 ] && args+=(--smoke)
[ -n "${KINDS:-}" ] && args+=(--kinds "$KINDS")
[ -n "${SIZES:-}" ] && args+=(--sizes "$SIZES")
[ -n "${OUT:-}" ] && args+=(--out "$OUT")
[ -n "${THREADS:-}" ] && args+=(--threads "$THREADS")
[ -n "${EVAL_TOKENS:-}" ] && args+=(--eval-tokens "$EVAL_TOKENS")
[ -n "${PER_POSITION_TOKENS:-}" ] && args+=(--per-position-tokens "$PER_POSITION_TOKENS")
[ -n "${STATUS_EVERY:-}" ] && args+=(--status-every "$STATUS_EVERY")
# exec: the driver replaces this shell, so a kill reaches it (and its tttlm child dies with it).
exec $PY scripts/scaling_run.py "${args[@]}" "$@"
