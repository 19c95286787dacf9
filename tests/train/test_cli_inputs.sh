#!/usr/bin/env bash
# The tttlm command line refuses bad input with one line naming the option and the value, never a signal
# (run by CTest with the tttlm binary as $1 and python3 as $2): every numeric option is range-checked
# (`eval --batch-size 0` used to divide by zero), a usage error with exit status 2; init, export and import
# refuse to write into a non-empty --out directory unless --overwrite is given; absurd model sizes and models
# over the memory limit are refused with the key or the estimate (runtime errors, exit status 1).
set -euo pipefail
tttlm=$1
py=${2:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/data"
"$py" - "$tmp/data" <<'EOPY'
import struct, sys
def save(path, vals):  # a 1-D '<u2' .npy, as np.save writes it
    d = "{'descr': '<u2', 'fortran_order': False, 'shape': (%d,), }" % len(vals)
    h = d + ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%dH' % len(vals), *vals))
save(sys.argv[1] + '/train.npy', [(i * 7 + i // 13) % 61 for i in range(3000)])
save(sys.argv[1] + '/validation.npy', [(i * 5 + i // 11) % 61 for i in range(1200)])
EOPY
cat >"$tmp/run.json" <<EOF
{"model": {"kind": "ttt-linear-mamba", "vocab_size": 61, "hidden_size": 32, "num_heads": 4, "num_layers": 2,
           "intermediate_size": 48, "max_seq_len": 32, "mini_batch_size": 8},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 4, "micro_batch_size": 2, "total_steps": 100}}
EOF
echo "hello world" >"$tmp/text.txt"

fails=0
expect_status() {  # STATUS NAME PATTERN COMMAND...: that exit status (an error, not a signal) and PATTERN in the output
  local status=$1 name=$2 pattern=$3 rc=0
  shift 3
  "$@" >"$tmp/out.log" 2>&1 || rc=$?
  if [ "$rc" -ne "$status" ]; then
    echo "FAILED: $name: exit status $rc, expected $status$([ "$rc" -gt 128 ] && echo " (killed by signal $((rc - 128)))")"
    cat "$tmp/out.log"; fails=$((fails + 1))
  elif ! grep -qF -- "$pattern" "$tmp/out.log"; then
    echo "FAILED: $name: no '$pattern' in:"; cat "$tmp/out.log"; fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}
expect_error() { expect_status 1 "$@"; }        # a runtime error: the config, the files, the model
expect_usage_error() { expect_status 2 "$@"; }  # a mistake in the command line itself

"$tttlm" init "$tmp/run.json" --seed 1 --out "$tmp/model" >/dev/null
m=("$tmp/model" --data "$tmp/data")

# Numeric options: the option, the accepted range and the value found.
expect_usage_error "eval --batch-size 0" '--batch-size: expected an integer >= 1; found "0"' "$tttlm" eval "${m[@]}" --batch-size 0
expect_usage_error "eval --batch-size -3" '--batch-size: expected an integer >= 1; found "-3"' "$tttlm" eval "${m[@]}" --batch-size -3
expect_usage_error "eval --batch-size 2x" "--batch-size: '2x' is not an integer; expected an integer >= 1" "$tttlm" eval "${m[@]}" --batch-size 2x
expect_usage_error "eval --batch-size huge" '--batch-size: expected an integer >= 1; found "99999999999999999999"' \
  "$tttlm" eval "${m[@]}" --batch-size 99999999999999999999
expect_usage_error "eval --batches 0" '--batches: expected an integer >= 1; found "0"' "$tttlm" eval "${m[@]}" --batches 0
expect_usage_error "eval --device gpu" "--device: 'gpu' is not a device; expected cpu, cuda or cuda:N" "$tttlm" eval "${m[@]}" --device gpu
expect_usage_error "generate --max-tokens 0" '--max-tokens: expected an integer >= 1; found "0"' \
  "$tttlm" generate "$tmp/model" --prompt hi --max-tokens 0
expect_usage_error "generate --temperature nan" '--temperature: expected a finite number in [0, 1e+06]; found "nan"' \
  "$tttlm" generate "$tmp/model" --prompt hi --temperature nan
expect_usage_error "generate --temperature -1" '--temperature: expected a finite number in [0, 1e+06]; found "-1"' \
  "$tttlm" generate "$tmp/model" --prompt hi --temperature -1
expect_usage_error "generate --temperature inf" '--temperature: expected a finite number in [0, 1e+06]; found "inf"' \
  "$tttlm" generate "$tmp/model" --prompt hi --temperature inf
expect_usage_error "generate --seed -1" '--seed: expected an integer in [0, 18446744073709551615]; found "-1"' \
  "$tttlm" generate "$tmp/model" --prompt hi --seed -1
expect_usage_error "info --batch 0" '--batch: expected an integer >= 1; found "0"' "$tttlm" info "$tmp/run.json" --batch 0
expect_usage_error "info --seq-len -1" '--seq-len: expected an integer >= 1; found "-1"' "$tttlm" info "$tmp/run.json" --seq-len -1
expect_usage_error "init --seed -1" '--seed: expected an integer in [0, 18446744073709551615]; found "-1"' \
  "$tttlm" init "$tmp/run.json" --seed -1 --out "$tmp/other"
tok=("$tttlm" tokenize --out "$tmp/tok" --quiet)
expect_usage_error "tokenize --vocab-size 0" '--vocab-size: expected an integer in [1, 2147483647]; found "0"' \
  "${tok[@]}" --vocab-size 0 "$tmp/text.txt"
expect_usage_error "tokenize --val-fraction 1" '--val-fraction: expected a finite number in [0, 1); found "1"' \
  "${tok[@]}" --val-fraction 1 "$tmp/text.txt"
expect_usage_error "tokenize --val-fraction nan" '--val-fraction: expected a finite number in [0, 1); found "nan"' \
  "${tok[@]}" --val-fraction nan "$tmp/text.txt"
expect_usage_error "tokenize --threads -1" '--threads: expected an integer in [0, 65536]; found "-1"' \
  "${tok[@]}" --threads -1 "$tmp/text.txt"
expect_usage_error "tokenize --shard-tokens 0" '--shard-tokens: expected an integer in [1, 2147483647]' \
  "${tok[@]}" --shard-tokens 0 "$tmp/text.txt"

# Valid values still work.
"$tttlm" eval "${m[@]}" --batch-size 2 --batches 1 >"$tmp/eval.log" 2>&1 || { echo "FAILED: eval with valid options"; cat "$tmp/eval.log"; exit 1; }
grep -q "loss" "$tmp/eval.log" || { echo "FAILED: eval printed no loss"; cat "$tmp/eval.log"; exit 1; }
echo "ok: eval --batch-size 2 --batches 1"

# init, export and import do not write into a directory that holds files, unless --overwrite.
sum_before=$(md5sum <"$tmp/model/model.safetensors")
cfg_before=$(md5sum <"$tmp/model/config.json")
expect_error "init over a model directory" "expected a new or empty directory" \
  "$tttlm" init "$tmp/run.json" --seed 2 --out "$tmp/model"
grep -qF -- "--overwrite" "$tmp/out.log" || { echo "FAILED: the refusal does not mention --overwrite"; exit 1; }
[ "$(md5sum <"$tmp/model/model.safetensors")" = "$sum_before" ] || { echo "FAILED: model.safetensors changed"; exit 1; }
[ "$(md5sum <"$tmp/model/config.json")" = "$cfg_before" ] || { echo "FAILED: config.json changed"; exit 1; }
echo "ok: the refused init left the model directory as it was"
"$tttlm" init "$tmp/run.json" --seed 2 --out "$tmp/model" --overwrite >/dev/null
[ "$(md5sum <"$tmp/model/model.safetensors")" != "$sum_before" ] || { echo "FAILED: --overwrite did not write"; exit 1; }
echo "ok: init --overwrite replaces the model"
mkdir -p "$tmp/empty"
"$tttlm" init "$tmp/run.json" --seed 3 --out "$tmp/empty" >/dev/null
echo "ok: init into an empty directory"
touch "$tmp/afile"
expect_error "init --out a file" "expected a directory; found a file" "$tttlm" init "$tmp/run.json" --out "$tmp/afile"
expect_error "export over a model directory" "expected a new or empty directory" \
  "$tttlm" export "$tmp/model" --format hf --out "$tmp/empty"
expect_error "import over a model directory" "expected a new or empty directory" \
  "$tttlm" import "$tmp/model" --format hf --out "$tmp/empty"

# Absurd model sizes are refused at once naming the key (timeout 5: `info` declares every layer); a model
# whose estimate exceeds the memory available is refused before anything is allocated or written.
expect_error "info num_layers 1e8" "model.num_layers: expected at most 65536, got 100000000" \
  timeout 5 "$tttlm" info "$tmp/run.json" --set model.num_layers=100000000
expect_error "info hidden_size 1e9" "model.hidden_size: expected at most 1048576, got 1000000000" \
  timeout 5 "$tttlm" info "$tmp/run.json" --set model.hidden_size=1000000000
expect_error "train over the memory limit" "but 0.00 GiB is available (TTTLM_MEMORY_LIMIT_BYTES); lower train.micro_batch_size" \
  env TTTLM_MEMORY_LIMIT_BYTES=1000 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/too_big"
[ ! -e "$tmp/too_big" ] || { echo "FAILED: a refused run created its run directory"; fails=$((fails + 1)); }
expect_error "init over the memory limit" "[init] $tmp/init_too_big: needs an estimated" \
  env TTTLM_MEMORY_LIMIT_BYTES=1000 "$tttlm" init "$tmp/run.json" --out "$tmp/init_too_big"

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all CLI input checks passed"
