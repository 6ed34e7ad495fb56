#!/usr/bin/env bash
# `npm run test:integration` after the builds: installs the host if needed (idempotent, a no-op
# once installed), then runs the suite in it. Arguments go to run-tests.mjs (e.g. --grep hover).
# NPAS_SKIP_INTEGRATION=1 skips the run with a loud notice (for quick local loops only; .ci/run
# refuses it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "${NPAS_SKIP_INTEGRATION:-}" = 1 ]; then
  echo "!!! integration tests SKIPPED (NPAS_SKIP_INTEGRATION=1): nothing was tested in VS Code" >&2
  exit 0
fi
env_lines="$(bash "$here/setup.sh")"
while IFS='=' read -r key value; do
  case "$key" in
    CODE_SERVER_ENTRY | CODE_SERVER_NODE | CHROMIUM_PATH) export "$key=$value" ;;
  esac
done <<<"$env_lines"
exec node "$here/run-tests.mjs" "$@"
