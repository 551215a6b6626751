#!/usr/bin/env bash
# Fills bundled/ with the Python side of the extension, so the user's environment is never touched:
#   bundled/libs  pinned dependencies from requirements.txt (pure-Python wheels, `pip -t`)
#   bundled/tool  the kit's own packages fglocal, server, debug_adapter (sources only)
# The libs are reinstalled only when requirements.txt changes (a stamp file records it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$here/.." && pwd)
python=${PYTHON:-python3}
libs=$here/bundled/libs
tool=$here/bundled/tool
stamp=$libs/.requirements.txt

if ! cmp -s "$here/requirements.txt" "$stamp"; then
    rm -rf "$libs"
    mkdir -p "$libs"
    # --implementation py + --python-version: pure-Python wheels that run on any interpreter >= 3.10.
    PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
        --no-deps --only-binary=:all: --implementation py --python-version 3.10 --target "$libs" \
        -r "$here/requirements.txt"
    rm -rf "$libs"/bin
    # debugpy ships attach-to-process helpers for Windows and macOS (16 MB); launching never uses them.
    find "$libs/debugpy" \( -name '*.dll' -o -name '*.exe' -o -name '*.pdb' -o -name '*.dylib' \) -delete
    cp "$here/requirements.txt" "$stamp"
fi

rm -rf "$tool"
mkdir -p "$tool"
for package in fglocal server debug_adapter; do
    (cd "$repo" && find "$package" -type f \( -name '*.py' -o -name '*.json' -o -name 'py.typed' \) \
        -not -path '*/__pycache__/*' -not -path '*/node_modules/*' -not -path '*/node-test/*' -print0 |
        xargs -0 -I{} cp --parents {} "$tool")
done
