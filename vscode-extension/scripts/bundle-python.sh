#!/usr/bin/env bash
# Fills bundled/ with the Python side of the extension, so the user's environment is never touched:
#   bundled/libs  pinned dependencies from requirements.txt (pure-Python wheels, `pip -t`), and the
#                 pure-Python parts of requirements-accelerated.txt (its comment says why and how)
#   bundled/tool  the kit's own packages, exactly as the wheel ships them (pyproject.toml says what
#                 ships: one list for the wheel and the .vsix)
#   bundled/debugpy-1.5.1  debugpy 1.5.1 for debugging Python 2.7/3.6 functions, in a folder of its own
#                 (not on PYTHONPATH: the adapter hands it to those debuggees; debug_adapter/debugpy_releases.py)
# The libs are reinstalled only when a requirements file changes (a stamp file records them).
# FG_BUNDLE_DIR (default: the extension's bundled/) puts the three folders elsewhere (the tests use it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
python=${PYTHON:-python3}
bundle=${FG_BUNDLE_DIR:-$here/bundled}
libs=$bundle/libs
tool=$bundle/tool
stamp=$libs/.requirements.txt
requirements=$(cat "$here/requirements.txt" "$here/requirements-accelerated.txt")

if [ "$requirements" != "$(cat "$stamp" 2>/dev/null)" ]; then
    rm -rf "$libs"
    mkdir -p "$libs"
    # --implementation py + --python-version: pure-Python wheels that run on any interpreter >= 3.10.
    PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
        --no-deps --only-binary=:all: --implementation py --python-version 3.10 --target "$libs" \
        -r "$here/requirements.txt"
    rm -rf "$libs"/bin
    # debugpy ships attach-to-process helpers for Windows and macOS (16 MB); launching never uses them.
    find "$libs/debugpy" \( -name '*.dll' -o -name '*.exe' -o -name '*.pdb' -o -name '*.dylib' \) -delete
    # PyYAML and bson without their C accelerators: any one platform's wheel holds the same Python
    # sources; the compiled files go, and so does what the SDK never imports (pymongo's driver, gridfs,
    # PyYAML's _yaml shim over its accelerator). Both then run their own pure-Python implementation.
    PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
        --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --implementation cp \
        --python-version 3.10 --target "$libs" -r "$here/requirements-accelerated.txt"
    rm -rf "$libs"/bin "$libs"/pymongo "$libs"/gridfs "$libs"/_yaml
    find "$libs/yaml" "$libs/bson" \( -name '*.so' -o -name '*.pyd' -o -name '*.c' -o -name '*.h' \) -delete
    printf '%s' "$requirements" >"$stamp"
fi

legacy=$bundle/debugpy-1.5.1
if [ ! -f "$legacy/debugpy/_version.py" ]; then
    rm -rf "$legacy"
    PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
        --no-deps --only-binary=:all: --target "$legacy" debugpy==1.5.1
    rm -rf "$legacy"/bin
    find "$legacy/debugpy" \( -name '*.dll' -o -name '*.exe' -o -name '*.pdb' -o -name '*.dylib' \) -delete
fi

# The wheel, exactly as `make dist` builds it (from a copy of the files git would commit).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wheel=$(PYTHON="$python" "$repo/scripts/build-wheel.sh" "$work/wheel" | tail -n 1)
rm -rf "$tool"
mkdir -p "$tool"
"$python" -m zipfile -e "$wheel" "$tool"
rm -rf "$tool"/*.dist-info
