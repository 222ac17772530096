#!/usr/bin/env bash
# Times the program test suite (tests/program) three ways and prints the median of RUNS runs each:
#   swc       the project's jest config: @swc/jest strips types, no type-check per test file
#   ts-jest   ts-jest's default: full type-check of every test file and its imports
#   tsc       `tsc --noEmit -p .` once over the whole project (how `npm test` type-checks)
# Jest runs with --no-cache, so every run transforms from scratch (a fresh CI machine); the warm
# numbers (cache kept) follow. Usage: bash bench/jest-speed.sh [RUNS]   (default 3)
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
JEST=(node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js)
SUITE=tests/program

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# time_runs LABEL CMD...: runs CMD RUNS times, prints "LABEL  median  (all runs)"; fails loudly if CMD fails.
time_runs() {
  local label="$1"; shift
  local times=() status=0
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/tmp/jest-speed.$$.log 2>&1 || status=$?
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | median)
  printf '%-34s median %6.2f s   runs: %s%s\n' "$label" "$med" "$(printf '%.2f ' "${times[@]}")" \
    "$([ "$status" -ne 0 ] && echo "  (exit $status: $(grep -m1 -E 'tests:|error' /tmp/jest-speed.$$.log))")"
}

echo "node $(node --version), $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg), $(ls $SUITE/*.test.ts | wc -l) test files in $SUITE, $RUNS runs each"
time_runs "jest + swc (project), cold" "${JEST[@]}" --no-cache "$SUITE"
time_runs "jest + ts-jest type-check, cold" "${JEST[@]}" --no-cache --config bench/jest-speed.ts-jest.config.js "$SUITE"
time_runs "jest + swc (project), warm cache" "${JEST[@]}" "$SUITE"
time_runs "jest + ts-jest type-check, warm" "${JEST[@]}" --config bench/jest-speed.ts-jest.config.js "$SUITE"
time_runs "tsc --noEmit -p . (whole project)" node_modules/.bin/tsc --noEmit -p .
rm -f /tmp/jest-speed.$$.log
