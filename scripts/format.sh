#!/usr/bin/env bash
# clang-format over the project's C++ and CUDA sources (.clang-format at the root; Debian's clang-format 14).
#   scripts/format.sh           reformat every tracked source in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if any does (CI runs this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fmt=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$fmt" ] || { echo "format: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')
if [ "${1:-}" = --check ]; then
  bad=()
  for f in "${files[@]}"; do
    "$fmt" --style=file "$f" | cmp -s - "$f" || bad+=("$f")
  done
  if [ "${#bad[@]}" -gt 0 ]; then
    printf 'format: %s differs from clang-format\n' "${bad[@]}"
    echo "format: ${#bad[@]} of ${#files[@]} files need scripts/format.sh (then review and commit)"
    exit 1
  fi
  echo "format: ${#files[@]} files match .clang-format"
else
  "$fmt" --style=file -i "${files[@]}"
  echo "format: reformatted ${#files[@]} files"
fi
