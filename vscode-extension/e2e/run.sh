#!/usr/bin/env bash
# The end-to-end test: installs what it needs (setup.sh), then runs the compiled Playwright test
# files (out/e2e/*.e2e.js, one after another) against the .vsix. Usage: e2e/run.sh VSIX OUTPUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ext=$(cd "$here/.." && pwd)
vsix=$(realpath "$1")
output=$(realpath -m "$2")

code_server=$("$here/setup.sh" | tail -n 1)
rm -rf "$output"
mkdir -p "$output"
cd "$ext"
npx tsc -p tsconfig.test.json
FG_E2E_CODE_SERVER="$code_server" FG_E2E_VSIX="$vsix" FG_E2E_OUTPUT="$output" \
    node --test --test-concurrency=1 out/e2e/*.e2e.js
