#!/usr/bin/env bash
# End to end on the CUDA backend (under the CPU emulator in CI, on a GPU where there is one), run by CTest
# with the tttlm binary as $1. What must hold:
#  - each of the six tiny kinds trains 3 steps with train.device=cuda and its losses equal the CPU run's
#    within 1e-5 relative (f32);
#  - a CUDA run stopped after step 2 and resumed equals the uninterrupted CUDA run bit for bit, and
#    `tttlm eval` on it works on both devices and agrees;
#  - 2 ranks with train.device=cuda (the NCCL path) equal 1 rank with twice the accumulation, bit for bit.
set -euo pipefail
tttlm=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TTTLM_CUDA_EMU_DEVICES=${TTTLM_CUDA_EMU_DEVICES:-2}
"$tttlm" tokenize --quiet --tokenizer "$root/tests/data/fixtures/tiny_bpe.model" --out "$tmp/data" --format npy \
  --val-fraction 0.2 "$root"/tests/data/fixtures/text/*.txt >/dev/null
compare=(/usr/bin/python3 "$root/scripts/compare_checkpoints.py")
losses() { /usr/bin/python3 -c 'import json,sys; print(" ".join(repr(r["loss"]) for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "train"))' "$1/metrics.jsonl"; }

for kind in transformer mamba ttt-linear-mamba ttt-linear-transformer ttt-mlp-mamba ttt-mlp-transformer; do
  cat >"$tmp/$kind.json" <<JSON
{"include": "$root/configs/models/$kind-tiny.json",
 "model": {"vocab_size": 1000, "max_seq_len": 32},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 3, "eval_every": 0, "checkpoint_every": 1,
           "keep_last": 10, "threads": 2},
 "optimizer": {"lr": 0.003, "warmup_steps": 1}, "log": {"progress": false, "every": 1}}
JSON
  "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-cpu"
  "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/$kind-cuda" --set train.device=cuda
  cpu=$(losses "$tmp/$kind-cpu") gpu=$(losses "$tmp/$kind-cuda")
  /usr/bin/python3 - "$kind" "$cpu" "$gpu" <<'PY'
import sys
kind, cpu, gpu = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
assert len(cpu) == 3 and len(gpu) == 3, (kind, cpu, gpu)
for s, (c, g) in enumerate(zip(cpu, gpu), 1):
    assert abs(c - g) <= 1e-5 * abs(c), f"{kind} step {s}: cpu loss {c!r}, cuda loss {g!r}"
print(f"ok: {kind}: cuda losses {gpu} == cpu {cpu} within 1e-5")
PY
done

# Resume on CUDA: stop after step 2 (a copy whose latest checkpoint is step 2), resume, compare.
kind=ttt-mlp-mamba
cp -r "$tmp/$kind-cuda" "$tmp/resumed"
rm -rf "$tmp/resumed/checkpoints/step_00000003"
echo "step_00000002" >"$tmp/resumed/checkpoints/latest"
"$tttlm" train "$tmp/resumed" --resume --quiet
"${compare[@]}" "$tmp/$kind-cuda/checkpoints/step_00000003/model.safetensors" \
  "$tmp/resumed/checkpoints/step_00000003/model.safetensors" --rtol 0 --atol 0
"${compare[@]}" "$tmp/$kind-cuda/checkpoints/step_00000003/optimizer.safetensors" \
  "$tmp/resumed/checkpoints/step_00000003/optimizer.safetensors" --rtol 0 --atol 0
echo "ok: a CUDA run resumed after step 2 == the uninterrupted run, bit for bit"
e_cuda=$("$tttlm" eval "$tmp/resumed" --split validation --batches 2 --device cuda | grep -o 'loss [0-9.]*' | head -1)
e_cpu=$("$tttlm" eval "$tmp/resumed" --split validation --batches 2 --device cpu | grep -o 'loss [0-9.]*' | head -1)
/usr/bin/python3 -c 'import sys; a, b = float(sys.argv[1].split()[1]), float(sys.argv[2].split()[1]); assert abs(a - b) <= 1e-5 * a, (a, b)' "$e_cuda" "$e_cpu"
echo "ok: eval on cuda ($e_cuda) == eval on cpu ($e_cpu)"

# Data parallel on CUDA (NCCL path): 2 ranks x accumulation 1 == 1 rank x accumulation 2, bit for bit.
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 -x TTTLM_CUDA_EMU_DEVICES)
kind=ttt-linear-mamba
OMP_NUM_THREADS=1 "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/dp1" --set train.device=cuda --set train.threads=1
timeout 600 "${mpi[@]}" -np 2 "$tttlm" train "$tmp/$kind.json" --quiet --set train.run_dir="$tmp/dp2" \
  --set train.device=cuda --set parallel.backend=nccl --set train.threads=1
"${compare[@]}" "$tmp/dp1/checkpoints/step_00000003/model.safetensors" \
  "$tmp/dp2/checkpoints/step_00000003/model.safetensors" --rtol 0 --atol 0
"${compare[@]}" "$tmp/dp1/checkpoints/step_00000003/optimizer.safetensors" \
  "$tmp/dp2/checkpoints/step_00000003/optimizer.safetensors" --rtol 0 --atol 0
echo "ok: 2 ranks on cuda (NCCL) == 1 rank with accumulation 2, bit for bit"
