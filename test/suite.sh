#!/bin/sh
# Both tiers at once, as one runner did before they were apart: the unit tier as on a machine without
# server programs (test/unit-alone.sh), its report after the e2e tier's. Build first (npm test does).
set -u
report=$(mktemp)
trap 'rm -f "$report"' EXIT
trap 'exit 130' INT TERM
sh test/unit-alone.sh >"$report" 2>&1 &
unit=$!
node --test --test-concurrency=3 build/test/e2e/*.test.js
e2e=$?
wait "$unit"
unit=$?
echo "# the unit tier (test/unit-alone.sh), exit $unit:"
cat "$report"
[ "$unit" -eq 0 ] && [ "$e2e" -eq 0 ]
