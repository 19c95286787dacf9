#!/usr/bin/env bash
# `tttlm tokenize` end to end (run by CTest with the tttlm binary as $1): JSONL input (with a BPE trained
# on the extracted text), a malformed JSONL line named with its line number, --doc-separator with an
# escaped separator, --lines-per-doc, and a re-tokenize into the same folder that prints what it removed.
set -euo pipefail
tttlm=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tok_model="$root/tests/data/fixtures/tiny_bpe.model"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

# A small JSONL corpus in the raw Pile's format, from the Macbeth fixture's paragraphs.
awk 'BEGIN { RS = ""; n = 0 } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\r/, ""); gsub(/\n/, "\\n");
     printf "{\"text\": \"%s\", \"meta\": {\"pile_set_name\": \"Gutenberg\", \"n\": %d}}\n", $0, n++ }' \
  "$root/tests/data/fixtures/text/macbeth_gut.txt" >"$tmp/corpus.jsonl"
ndocs=$(wc -l <"$tmp/corpus.jsonl")

# JSONL detected by the extension; a 512-id BPE trained on the documents' text.
"$tttlm" tokenize --quiet --out "$tmp/a" --vocab-size 512 --val-fraction 0.1 "$tmp/corpus.jsonl" >"$tmp/a.log"
grep -q "of $ndocs documents held out" "$tmp/a.log" || { cat "$tmp/a.log"; fail "JSONL: expected $ndocs documents"; }
for f in train.npy validation.npy test.npy tokenizer.model tttlm_train_000000.bin tttlm_val_000000.bin; do
  [ -f "$tmp/a/$f" ] || fail "JSONL: $f not written"
done
[ ! -e "$tmp/a/tokenizer_input.txt" ] || fail "the extracted BPE input was left behind"

# Same folder, no validation split: the earlier run's validation files are removed, and said so.
"$tttlm" tokenize --quiet --out "$tmp/a" --tokenizer "$tok_model" --val-fraction 0 --format npy \
  --jsonl --text-field text "$tmp/corpus.jsonl" >"$tmp/b.log"
for f in validation.npy test.npy tttlm_train_000000.bin tttlm_val_000000.bin; do
  grep -q "removed $tmp/a/$f: an output of an earlier tokenize" "$tmp/b.log" || { cat "$tmp/b.log"; fail "no removal line for $f"; }
  [ ! -e "$tmp/a/$f" ] || fail "$f was left behind"
done

# A malformed line: exit status 1 and the file and line named.
{ head -3 "$tmp/corpus.jsonl"; echo '{"text": "broken'; } >"$tmp/bad.jsonl"
rc=0
"$tttlm" tokenize --quiet --out "$tmp/c" --tokenizer "$tok_model" "$tmp/bad.jsonl" >"$tmp/c.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/c.log"; fail "malformed JSONL: exit status $rc, expected 1"; }
grep -q "bad.jsonl line 4: invalid JSON" "$tmp/c.log" || { cat "$tmp/c.log"; fail "malformed JSONL: line not named"; }

# One text file cut at blank lines ('\n\n' unescaped) and into 10-line blocks.
"$tttlm" tokenize --quiet --out "$tmp/d" --tokenizer "$tok_model" --val-fraction 0.05 --doc-separator '\n\n' \
  "$root/tests/data/fixtures/text/macbeth_gut.txt" >"$tmp/d.log"
grep -q "of $ndocs documents held out" "$tmp/d.log" || { cat "$tmp/d.log"; fail "--doc-separator: expected $ndocs documents"; }
lines=$(wc -l <"$root/tests/data/fixtures/text/macbeth_gut.txt")
"$tttlm" tokenize --quiet --out "$tmp/e" --tokenizer "$tok_model" --val-fraction 0 --lines-per-doc 10 \
  "$root/tests/data/fixtures/text/macbeth_gut.txt" >"$tmp/e.log"
grep -q "of $(((lines + 9) / 10)) documents held out" "$tmp/e.log" || { cat "$tmp/e.log"; fail "--lines-per-doc 10"; }
echo "tokenize CLI: all checks passed"
