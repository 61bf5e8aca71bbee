#!/usr/bin/env bash
# `npm test`: system packages if missing, the strict type check (vitest strips types without
# checking them), then every vitest project (unit, int, e2e), then a plain "N passed, N failed"
# line read from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh || exit 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
if ! npx tsc --noEmit -p .; then
  echo "FAILED: the type check (npm run typecheck)"
  exit 1
fi
report=.vitest-results.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node scripts/summarize-tests.mjs "$report" || status=1
exit $status
