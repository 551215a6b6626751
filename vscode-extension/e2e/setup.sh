#!/usr/bin/env bash
# Installs what the end-to-end test needs on a fresh Debian machine, reusing whatever is already there:
# Debian's chromium (+ fonts), and code-server in a cache folder outside the repository.
# Prints the code-server binary's path on its last line of stdout.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3 # the last release that runs on Node 20 (VS Code 1.100.3)
CACHE_DIR=${FG_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fg-devkit}
CODE_SERVER_DIR=$CACHE_DIR/code-server-$CODE_SERVER_VERSION
CODE_SERVER_BIN=$CODE_SERVER_DIR/node_modules/.bin/code-server
CHROMIUM=/usr/lib/chromium/chromium

log() { echo "e2e-setup: $*" >&2; }

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || echo "$pkg"
    done
}

apt_install() {
    local missing
    missing=$(missing_packages "$@")
    [ -z "$missing" ] && return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { log "need root (or sudo) to install:" $missing; exit 1; }
        sudo="sudo"
    fi
    log "installing Debian packages:" $missing
    if [ -z "${APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq >&2
        APT_UPDATED=1
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
}

# The browser the test drives, and fonts so screenshots show text.
apt_install chromium fonts-dejavu-core
[ -x "$CHROMIUM" ] || { log "chromium is installed but $CHROMIUM is missing"; exit 1; }

if [ ! -x "$CODE_SERVER_BIN" ]; then
    # code-server's native modules compile against Node's headers (already in /usr/include/node).
    apt_install build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep python3
    log "installing code-server@$CODE_SERVER_VERSION into $CODE_SERVER_DIR"
    mkdir -p "$CACHE_DIR"
    staging=$(mktemp -d "$CACHE_DIR/code-server-install.XXXXXX")
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$staging/pkg" "$staging/tmp"
    # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here: pre-seed its
    # download cache (under $TMPDIR) with Debian's rg packed under the name it looks for.
    case "$(uname -m)" in
        x86_64) rg_target=x86_64-unknown-linux-musl ;;
        aarch64) rg_target=aarch64-unknown-linux-musl ;;
        *) log "unsupported machine $(uname -m)"; exit 1 ;;
    esac
    for cache in vscode-ripgrep-cache-1.15.11 vscode-ripgrep-cache-1.15.10 vscode-ripgrep-cache-1.15.9; do
        mkdir -p "$staging/tmp/$cache"
        cp "$(command -v rg)" "$staging/tmp/rg"
        for v in v13.0.0-10 v13.0.0-4 v13.0.0-8; do
            tar -C "$staging/tmp" -czf "$staging/tmp/$cache/ripgrep-$v-$rg_target.tar.gz" rg
        done
    done
    echo '{"name":"fg-devkit-code-server","private":true}' >"$staging/pkg/package.json"
    # npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which aborts without a TTY otherwise;
    # npm_config_unsafe_perm: code-server's postinstall refuses to run as root without it.
    (cd "$staging/pkg" && TMPDIR="$staging/tmp" npm_config_yes=true npm_config_unsafe_perm=true \
        npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2)
    [ -x "$staging/pkg/node_modules/.bin/code-server" ] || { log "code-server did not install"; exit 1; }
    rm -rf "$CODE_SERVER_DIR"
    mv "$staging/pkg" "$CODE_SERVER_DIR"
fi
echo "$CODE_SERVER_BIN"
