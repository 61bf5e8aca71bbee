#!/usr/bin/env bash
# After localstack/deploy.sh: one recording through the deployed API (create, stop, wait for a
# terminal status), printed as JSON. Exits non-zero on failure. Settings (all optional):
#   AWS_ENDPOINT_URL              LocalStack edge (default http://localhost:4566)
#   CAPSTAN_LOCALSTACK_OUTPUTS    outputs file written by deploy.sh (default .data/localstack/outputs.json)
#   CAPSTAN_SMOKE_API_URL         the API base URL, instead of the HttpApiUrl… output
#   CAPSTAN_SMOKE_EXPECT_STATUS   require this terminal status (e.g. completed)
#   CAPSTAN_SMOKE_CLAIM_WAIT_MS / CAPSTAN_SMOKE_TERMINAL_WAIT_MS   waits (60 s / 180 s)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx localstack/smoke.ts
