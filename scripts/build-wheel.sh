#!/usr/bin/env bash
# Builds the kit's wheel into OUT_DIR (default: dist/) from a copy of the files git would commit
# (tracked or new, not ignored, not deleted): nothing is written into the checkout, and no stale
# build/ folder can add a module that was removed (pip builds in the source tree, and setuptools
# packs whatever its build/lib holds). Used by `make dist` and by the .vsix's bundle-python.sh.
# PYTHON (default: python3) runs pip. Prints the wheel's path on its last line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
out=$(realpath -m "${1:-$repo/dist}")
git -C "$repo" rev-parse --is-inside-work-tree >/dev/null ||
    { echo "build-wheel.sh: $repo is not a git checkout" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/wheel"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do if [ -f "$file" ]; then printf '%s\0' "$file"; fi; done |
    xargs -0 cp --parents -t "$work/src")
PIP_ROOT_USER_ACTION=ignore "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    --wheel-dir "$work/wheel" "$work/src"
mkdir -p "$out"
wheel=$(cd "$work/wheel" && ls functiongraph_devkit-*.whl)
rm -f "$out/$wheel"
cp "$work/wheel/$wheel" "$out/$wheel"
echo "$out/$wheel"
