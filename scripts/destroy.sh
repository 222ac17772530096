#!/usr/bin/env bash
# npm run destroy [-- <pulumi destroy flags>]: check the prerequisites, `pulumi destroy`, then point
# to `npm run sweep` for anything left behind outside the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node -r ./scripts/launch.js dist/scripts/preflight.js destroy -- "$@"
