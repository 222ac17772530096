#!/usr/bin/env bash
# npm run up [-- <pulumi up flags>]: check every prerequisite, then `pulumi up` on the chosen backend
# (PULUMI_BACKEND_URL, else an existing `pulumi login`, else file://<repo>/.pulumi-state).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node -r ./scripts/launch.js dist/scripts/preflight.js up -- "$@"
