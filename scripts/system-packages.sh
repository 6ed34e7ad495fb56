#!/usr/bin/env bash
# Debian packages the unit tests need, installed by `npm test` itself so that the README's two
# commands set up a fresh machine: python3-torch (1.13, CPU) for the independent PyTorch check
# (test/torch), run by Debian's /usr/bin/python3. Idempotent: a no-op when the import works.
# (The VS Code host's packages, chromium among them, are scripts/vscode-host/setup.sh's.)
# Env: NPAS_SKIP_APT=1 never calls apt-get (fails with the command to run instead).
set -euo pipefail
log() { echo "[system packages] $*" >&2; }

/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 && exit 0

if [ "${NPAS_SKIP_APT:-}" = 1 ]; then
  log "python3-torch is missing (NPAS_SKIP_APT=1); install it: apt-get install python3-torch"
  exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    log "python3-torch is missing; run as root: apt-get update && apt-get install -y --no-install-recommends python3-torch"
    exit 1
  fi
fi
log "apt: installing python3-torch (the independent PyTorch check; about a minute)"
"${SUDO[@]}" apt-get update -qq >&2 </dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null </dev/null
/usr/bin/python3 -c 'import torch' >/dev/null
