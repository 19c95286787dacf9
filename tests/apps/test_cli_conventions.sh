#!/usr/bin/env bash
# The tttlm command line follows common habits (run by CTest with the tttlm binary as $1 and the source
# tree as $2): --help on every command (stdout, exit 0), --version with the git commit, exit status 2 for
# usage errors and 1 for runtime errors, "did you mean" for a likely typo only, --device syntax, and config
# keys that are refused (a typo with a suggestion, an unrelated key without, an unknown train.precision).
set -uo pipefail
tttlm=$1
src=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect NAME STATUS [--has PATTERN] [--lacks PATTERN] -- COMMAND...: the exit status and the output.
expect() {
  local name=$1 status=$2 rc=0
  shift 2
  local has=() lacks=()
  while [ "$1" != "--" ]; do
    case $1 in --has) has+=("$2") ;; --lacks) lacks+=("$2") ;; esac
    shift 2
  done
  shift
  "$@" >"$tmp/out.log" 2>&1 || rc=$?
  local bad=""
  [ "$rc" -eq "$status" ] || bad="exit status $rc, expected $status"
  for p in ${has[@]+"${has[@]}"}; do grep -qF -- "$p" "$tmp/out.log" || bad="$bad; no '$p'"; done
  for p in ${lacks[@]+"${lacks[@]}"}; do ! grep -qF -- "$p" "$tmp/out.log" || bad="$bad; unexpected '$p'"; done
  if [ -n "$bad" ]; then
    echo "FAILED: $name: $bad; output:"; cat "$tmp/out.log"; fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}

cat >"$tmp/run.json" <<EOF2
{"model": {"kind": "transformer", "vocab_size": 61, "hidden_size": 32, "num_heads": 4, "num_layers": 1,
           "intermediate_size": 48, "max_seq_len": 32},
 "data": {"path": "$tmp/data", "seq_len": 32},
 "train": {"global_batch_size": 2, "micro_batch_size": 1, "total_steps": 1},
 "optimizer": {"warmup_steps": 0}}
EOF2

# Help: every command has --help and -h on stdout with exit status 0; the command list names them all.
expect "tttlm --help" 0 --has "commands:" --has "train" --has "tokenize" --has "exit status" -- "$tttlm" --help
expect "tttlm -h" 0 --has "commands:" -- "$tttlm" -h
expect "tttlm help eval" 0 --has "usage: tttlm eval CKPT" -- "$tttlm" help eval
expect "tttlm (no command)" 2 --has "commands:" -- "$tttlm"
expect "train --help" 0 --has "usage: tttlm train" --has "--resume" --has "--set KEY=VALUE" -- "$tttlm" train --help
for cmd in train eval generate tokenize info config init export import help version; do
  expect "$cmd -h" 0 --has "usage: tttlm $cmd" --has "-h, --help" -- "$tttlm" "$cmd" -h
done
expect "help before an invalid value" 0 --has "usage: tttlm eval" -- "$tttlm" eval --batches abc --help
"$tttlm" train --help 2>/dev/null | grep -q "usage:" || { echo "FAILED: train --help is not on stdout"; fails=$((fails + 1)); }

# --version and version: the git commit the binary was built from.
commit_re='commit [0-9a-f]{7,}'
if [ -n "$src" ] && ! git -C "$src" rev-parse HEAD >/dev/null 2>&1; then commit_re='commit unknown'; fi
for v in --version version; do
  out=$("$tttlm" $v) || { echo "FAILED: tttlm $v exit status $?"; fails=$((fails + 1)); }
  if echo "$out" | grep -qE "^tttlm [0-9.]+ \(.*$commit_re"; then echo "ok: tttlm $v: $out"; else
    echo "FAILED: tttlm $v printed '$out', expected '$commit_re'"; fails=$((fails + 1)); fi
done

# Unknown commands and options: exit status 2, a suggestion for a likely typo and none otherwise.
expect "near-miss command" 2 --has "unknown command 'trian'; did you mean 'train'?" -- "$tttlm" trian x.json
expect "unrelated command" 2 --has "unknown command 'banana'" --lacks "did you mean" -- "$tttlm" banana
expect "unknown top-level option" 2 --has "unknown option --verison; did you mean --version?" -- "$tttlm" --verison
expect "near-miss option" 2 --has "unknown option --batchs; did you mean --batches?" -- "$tttlm" eval X --batchs 2
expect "unrelated option" 2 --has "unknown option --elephant" --lacks "did you mean" -- "$tttlm" eval X --elephant
expect "option without its value" 2 --has "--batches needs a value" -- "$tttlm" eval X --batches

# Typed values: the option and the value are named; checked before any file is read.
expect "eval --batches abc" 2 --has "--batches: 'abc' is not an integer" -- "$tttlm" eval X --batches abc
expect "info --batch abc" 2 --has "--batch: 'abc' is not an integer" -- "$tttlm" info "$tmp/run.json" --batch abc
expect "generate --temperature hot" 2 --has "--temperature: 'hot' is not a number" -- "$tttlm" generate X --temperature hot
expect "tokenize --format txt" 2 --has "--format: expected one of npy, bin, both; found \"txt\"" -- \
  "$tttlm" tokenize --out "$tmp/tok" --format txt a.txt
expect "missing argument" 2 --has "missing argument CKPT" -- "$tttlm" eval
expect "missing required option" 2 --has "--out DIR is required" -- "$tttlm" init "$tmp/run.json"
expect "extra argument" 2 --has "unexpected argument 'extra'" -- "$tttlm" config "$tmp/run.json" extra

# --device: cpu, cuda or cuda:N; anything else is a usage error naming the accepted forms.
for bad in tpu gpu cuda:x cuda: cuda:-1; do
  expect "eval --device $bad" 2 --has "--device: '$bad' is not a device; expected cpu, cuda or cuda:N" -- \
    "$tttlm" eval X --device "$bad"
  expect "generate --device $bad" 2 --has "--device: '$bad' is not a device" -- "$tttlm" generate X --device "$bad"
done

# Runtime errors: exit status 1.
expect "missing config file" 1 --has "$tmp/missing.json: no such file" -- "$tttlm" config "$tmp/missing.json"
expect "missing checkpoint" 1 --has "$tmp/nothing" -- "$tttlm" eval "$tmp/nothing"
expect "config works" 0 --has '"precision": "fp32"' -- "$tttlm" config "$tmp/run.json"

# Config keys: a precision other than fp32/bf16 is refused (before the run directory is made); a typo gets
# a suggestion, an unrelated key none.
expect "train.precision fp16" 1 --has 'train.precision: expected "fp32" or "bf16", got "fp16"' -- \
  "$tttlm" config "$tmp/run.json" --set train.precision=fp16
sed 's/"total_steps": 1}/"total_steps": 1, "precision": "fp8"}/' "$tmp/run.json" >"$tmp/fp8.json"
expect "train refuses precision fp8" 1 --has 'train.precision: expected "fp32" or "bf16", got "fp8"' -- \
  "$tttlm" train "$tmp/fp8.json" --quiet --set train.run_dir="$tmp/fp8_run"
[ ! -e "$tmp/fp8_run" ] || { echo "FAILED: the refused run created its run directory"; fails=$((fails + 1)); }
expect "config key typo" 1 --has "unknown key train.totl_steps; did you mean train.total_steps?" -- \
  "$tttlm" config "$tmp/run.json" --set train.totl_steps=3
expect "unrelated config key" 1 --has "unknown key train.banana" --lacks "did you mean" -- \
  "$tttlm" config "$tmp/run.json" --set train.banana=3
expect "untied embeddings" 1 --has "model.tie_word_embeddings" -- \
  "$tttlm" info "$tmp/run.json" --set model.tie_word_embeddings=false

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all CLI convention checks passed"
