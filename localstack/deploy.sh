#!/usr/bin/env bash
# Bootstraps and deploys the Capstan CDK stack (infra/app.ts, stack "Capstan") to LocalStack
# with cdklocal, and writes the stack outputs for localstack/smoke.sh.
#
#   docker compose -f localstack/docker-compose.yml up -d --wait
#   localstack/deploy.sh
#
# Needs: Docker (the recorder/compositor image is built by `cdk deploy`), LocalStack answering
# at $AWS_ENDPOINT_URL, and LocalStack Pro for API Gateway v2, ECS and ECR (checked first;
# CAPSTAN_LOCALSTACK_FORCE=1 tries anyway). cdklocal comes through npx, pinned, and drives
# this repository's own aws-cdk CLI; nothing is added to package.json.
#
# Exit codes: 0 deployed, 2 LocalStack unreachable, 3 a needed service is not available
# (LocalStack Pro), anything else: bootstrap or deploy failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CDKLOCAL_VERSION="3.0.4"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export CDK_DISABLE_VERSION_CHECK=1
ACCOUNT="${LOCALSTACK_ACCOUNT_ID:-000000000000}"
OUTPUTS="${CAPSTAN_LOCALSTACK_OUTPUTS:-$ROOT/.data/localstack/outputs.json}"
# Pro-only services the stack creates: the HTTP API, the cluster/service/tasks, the image repository.
REQUIRED_SERVICES="${CAPSTAN_LOCALSTACK_REQUIRED_SERVICES:-apigatewayv2 ecs ecr dynamodb dynamodbstreams s3 sqs events lambda cloudformation}"

if ! health="$(curl -fsS --max-time 5 "$AWS_ENDPOINT_URL/_localstack/health")"; then
  echo "deploy: LocalStack does not answer at $AWS_ENDPOINT_URL/_localstack/health" >&2
  echo "        start it: docker compose -f localstack/docker-compose.yml up -d --wait" >&2
  exit 2
fi

# Services LocalStack does not list, or lists as disabled/error (community edition: the Pro ones).
missing="$(node -e '
  const health = JSON.parse(process.argv[1]);
  const states = health.services ?? {};
  const missing = process.argv[2].split(/\s+/).filter((s) => s && (!(s in states) || ["disabled", "error"].includes(states[s])));
  process.stdout.write(missing.join(" "));
' "$health" "$REQUIRED_SERVICES")"
edition="$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).edition ?? "unknown"))' "$health")"
if [ -n "$missing" ]; then
  echo "deploy: LocalStack ($edition) lacks: $missing" >&2
  echo "        API Gateway v2, ECS and ECR need LocalStack Pro (LOCALSTACK_AUTH_TOKEN and a Pro image; see localstack/README.md)" >&2
  if [ "${CAPSTAN_LOCALSTACK_FORCE:-}" != "1" ]; then exit 3; fi
  echo "deploy: CAPSTAN_LOCALSTACK_FORCE=1: trying anyway" >&2
fi

cdklocal() {
  # cdklocal requires `aws-cdk` at runtime: point it at this repository's pinned CLI.
  NODE_PATH="$ROOT/node_modules${NODE_PATH:+:$NODE_PATH}" npx --yes "aws-cdk-local@$CDKLOCAL_VERSION" "$@"
}

mkdir -p "$(dirname "$OUTPUTS")"
echo "deploy: bootstrapping aws://$ACCOUNT/$AWS_REGION at $AWS_ENDPOINT_URL"
cdklocal bootstrap "aws://$ACCOUNT/$AWS_REGION"
echo "deploy: deploying Capstan"
cdklocal deploy Capstan --require-approval never --outputs-file "$OUTPUTS"
echo "deploy: outputs in $OUTPUTS"
