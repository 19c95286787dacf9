#!/usr/bin/env bash
# clang-tidy with the repository's .clang-tidy over the C++ files changed against main (or every file with
# --all), using the compile commands of a build directory (default build; configured with
# -DCMAKE_EXPORT_COMPILE_COMMANDS=ON when it has none). Exits 1 when clang-tidy reports a warning.
#   usage: scripts/tidy.sh [--all] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
[ "${1:-}" = --all ] && { all=1; shift; }
build=${1:-build}
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
if [ "$all" = 1 ]; then
  mapfile -t files < <(git ls-files 'apps/*.cpp' 'autograd/*.cpp' 'core/*.cpp' 'data/*.cpp' 'kernels/cpu/*.cpp' \
    'layers/*.cpp' 'train/*.cpp')
else
  mapfile -t files < <(git diff --name-only --diff-filter=d "$(git merge-base HEAD main)" -- '*.cpp' | grep -v '^tests/' || true)
fi
[ "${#files[@]}" -gt 0 ] || { echo "tidy: no C++ files to check"; exit 0; }
out=$(clang-tidy -p "$build" --quiet "${files[@]}" 2>/dev/null || true)
if echo "$out" | grep -q "warning:"; then
  echo "$out"
  echo "tidy: $(echo "$out" | grep -c 'warning:') warning(s) in ${#files[@]} file(s)"
  exit 1
fi
echo "tidy: ${#files[@]} file(s) clean"
