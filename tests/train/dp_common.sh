# Sourced by the data-parallel test scripts: $tttlm, $root, $tmp, the mpirun command line, a tokenized
# fixture corpus in $tmp/data and a tiny TTT-Linear run config in $tmp/run.json (global batch 8 of 32 tokens).
set -euo pipefail
tttlm=$(realpath "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap "rm -rf $tmp" EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1)
compare=(/usr/bin/python3 "$root/scripts/compare_checkpoints.py")
"$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$tmp/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
cat >"$tmp/run.json" <<JSON
{"model": {"kind": "ttt-linear-mamba", "vocab_size": 1000, "hidden_size": 32, "num_heads": 4, "num_layers": 2,
           "intermediate_size": 48, "max_seq_len": 32, "mini_batch_size": 8},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 8, "micro_batch_size": 4, "total_steps": 4, "eval_every": 0, "checkpoint_every": 2,
           "keep_last": 10, "threads": 1},
 "optimizer": {"lr": 0.01, "warmup_steps": 1}, "log": {"progress": false}}
JSON
# Both the weights and the AdamW moments of two checkpoints, within rtol/atol (0 0: bit for bit).
same_checkpoint() {  # A B RTOL ATOL
  "${compare[@]}" "$1/model.safetensors" "$2/model.safetensors" --rtol "$3" --atol "$4"
  "${compare[@]}" "$1/optimizer.safetensors" "$2/optimizer.safetensors" --rtol "$3" --atol "$4"
}
