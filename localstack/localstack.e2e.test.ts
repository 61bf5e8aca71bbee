/**
 * The LocalStack path end to end: deploy.sh (cdklocal bootstrap + deploy) then smoke.sh (one
 * recording through the deployed API). Needs a usable Docker daemon, LocalStack answering at
 * its edge endpoint, and the Pro services the stack uses; otherwise skipped, with the reason in
 * the test name and on stderr.
 */
import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const ENDPOINT = process.env['AWS_ENDPOINT_URL'] ?? 'http://localhost:4566';
const PRO_SERVICES = ['apigatewayv2', 'ecs', 'ecr'];

/** Why the flow cannot run here, or undefined when it can. */
async function unavailableReason(): Promise<string | undefined> {
  const docker = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 15_000 });
  if (docker.error !== undefined || docker.status !== 0) {
    return `Docker is not usable (\`docker info\` ${docker.error ? `failed: ${docker.error.message}` : `exited ${docker.status}`})`;
  }
  let health: { edition?: string; services?: Record<string, string> };
  try {
    const response = await fetch(`${ENDPOINT}/_localstack/health`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return `LocalStack at ${ENDPOINT} answered ${response.status}`;
    health = (await response.json()) as typeof health;
  } catch (error) {
    return `LocalStack does not answer at ${ENDPOINT}/_localstack/health (${(error as Error).message}); start it with docker compose -f localstack/docker-compose.yml up -d --wait`;
  }
  const missing = PRO_SERVICES.filter((s) => !(s in (health.services ?? {})) || ['disabled', 'error'].includes(health.services![s]!));
  if (missing.length > 0) return `LocalStack (${health.edition ?? 'unknown'} edition) lacks ${missing.join(', ')}: the stack needs LocalStack Pro`;
  return undefined;
}

const reason = await unavailableReason();
if (reason !== undefined) console.warn(`localstack.e2e: skipped: ${reason}`);

// Skipped, with `reason` in its name, wherever Docker, LocalStack or its Pro services are
// missing (as on the CI machine); it runs wherever `docker compose -f localstack/docker-compose.yml up`
// brings up LocalStack Pro (LOCALSTACK_AUTH_TOKEN set).
describe.skipIf(reason !== undefined)(`LocalStack deploy and smoke${reason === undefined ? '' : ` (skipped: ${reason})`}`, () => {
  const run = (script: string, timeoutMs: number) =>
    promisify(execFile)('bash', [resolve(ROOT, 'localstack', script)], { cwd: ROOT, env: process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });

  it('deploys the stack with cdklocal', { timeout: 20 * 60_000 }, async () => {
    const { stdout } = await run('deploy.sh', 20 * 60_000);
    expect(stdout).toContain('deploy: outputs in');
  });

  it('takes one recording through the deployed API to a terminal status', { timeout: 6 * 60_000 }, async () => {
    const { stdout } = await run('smoke.sh', 6 * 60_000);
    const result = JSON.parse(stdout) as { ok: boolean; recording: { status: string } };
    expect(result.ok).toBe(true);
    expect(['completed', 'failed', 'deleted']).toContain(result.recording.status);
  });
});
