/**
 * One recording through the deployed stack: seed an API key (stored hashed, as the API reads
 * it), create an rtp recording, wait briefly for a recorder to claim it, stop it, wait for a
 * terminal status, print the result. Exit 0 on a terminal status (and the expected one when
 * CAPSTAN_SMOKE_EXPECT_STATUS is set), 1 otherwise. Run by localstack/smoke.sh after deploy.sh.
 *
 * Without a recorder (no ECS), stopping a recording nobody claimed ends it as `failed` with
 * `stopped_before_start`: the API, the event store, the stream and the publisher all worked.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDbApiKeyStore, hashApiKey, newApiKey } from '../shared/auth/api-keys.ts';
import { documentClient, dynamoDbClient } from '../shared/aws/clients.ts';
import { TERMINAL_STATUSES } from '../shared/recording/model.ts';

const env = process.env;
const endpoint = env['AWS_ENDPOINT_URL'] ?? 'http://localhost:4566';
const region = env['AWS_REGION'] ?? 'us-east-1';
const outputsFile = env['CAPSTAN_LOCALSTACK_OUTPUTS'] ?? resolve(import.meta.dirname, '../.data/localstack/outputs.json');
const claimWaitMs = Number(env['CAPSTAN_SMOKE_CLAIM_WAIT_MS'] ?? 60_000);
const terminalWaitMs = Number(env['CAPSTAN_SMOKE_TERMINAL_WAIT_MS'] ?? 180_000);
const expectStatus = env['CAPSTAN_SMOKE_EXPECT_STATUS'];

interface Recording {
  readonly id: string;
  readonly status: string;
  readonly ingest?: unknown;
  readonly [key: string]: unknown;
}

function fail(message: string, details: Record<string, unknown> = {}): never {
  console.error(JSON.stringify({ ok: false, message, ...details }));
  process.exit(1);
}

/** `cdk deploy --outputs-file` writes `{ "Capstan": { "<OutputId>": "value" } }`. */
function readOutputs(): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(outputsFile, 'utf8'));
  } catch (error) {
    fail(`no stack outputs at ${outputsFile}: run localstack/deploy.sh first`, { error: String(error) });
  }
  const outputs = (parsed as Record<string, Record<string, string>>)['Capstan'];
  if (outputs === undefined) fail(`${outputsFile} has no "Capstan" stack`);
  return outputs;
}

/** The HTTP API construct's output id carries a hash suffix: `HttpApiUrl1A2B3C4D`. */
function outputStartingWith(outputs: Record<string, string>, prefix: string): string {
  const key = Object.keys(outputs).find((k) => k.startsWith(prefix));
  if (key === undefined) fail(`no stack output ${prefix}…`, { outputs: Object.keys(outputs) });
  return outputs[key]!;
}

async function api(base: string, apiKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the report.
  }
  return { status: response.status, json };
}

async function poll(base: string, apiKey: string, id: string, until: (r: Recording) => boolean, timeoutMs: number): Promise<Recording> {
  const deadline = Date.now() + timeoutMs;
  let last: Recording | undefined;
  while (Date.now() < deadline) {
    const { status, json } = await api(base, apiKey, 'GET', `/v1/recordings/${id}`);
    if (status !== 200) fail(`GET /v1/recordings/${id} answered ${status}`, { body: json });
    last = json as Recording;
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last!;
}

const outputs = readOutputs();
const apiUrl = env['CAPSTAN_SMOKE_API_URL'] ?? outputStartingWith(outputs, 'HttpApiUrl');
const apiKeysTable = outputs['ApiKeysTableName'] ?? fail('no stack output ApiKeysTableName');

// Seed a key the way local/dev-keys.ts does: only its SHA-256 is stored.
const apiKey = newApiKey();
const tenantId = env['CAPSTAN_SMOKE_TENANT'] ?? 'localstack-smoke';
const keys = new DynamoDbApiKeyStore(documentClient(dynamoDbClient({ AWS_REGION: region, CAPSTAN_DYNAMODB_ENDPOINT: endpoint })), apiKeysTable);
await keys.put({ key_hash: hashApiKey(apiKey), tenant_id: tenantId, created_at: new Date().toISOString() });

const health = await api(apiUrl, apiKey, 'GET', '/health');
if (health.status !== 200) fail(`GET /health answered ${health.status}`, { apiUrl, body: health.json });

const created = await api(apiUrl, apiKey, 'POST', '/v1/recordings', {
  source: { type: 'rtp' },
  recording_name: 'LocalStack smoke',
  metadata: { smoke: 'localstack' },
});
if (created.status !== 201) fail(`POST /v1/recordings answered ${created.status}`, { body: created.json });
const recording = created.json as Recording;
console.error(`smoke: created ${recording.id} (${recording.status}); waiting up to ${claimWaitMs} ms for a recorder to claim it`);

const claimed = await poll(apiUrl, apiKey, recording.id, (r) => r.ingest !== undefined || r.status !== 'requested', claimWaitMs);
console.error(`smoke: ${claimed.ingest === undefined ? 'not claimed (no recorder running)' : `claimed, ingest ${JSON.stringify(claimed.ingest)}`}; stopping`);

const stopped = await api(apiUrl, apiKey, 'POST', `/v1/recordings/${recording.id}/stop`);
if (stopped.status !== 202) fail(`POST /v1/recordings/${recording.id}/stop answered ${stopped.status}`, { body: stopped.json });

const final = await poll(apiUrl, apiKey, recording.id, (r) => TERMINAL_STATUSES.includes(r.status as never), terminalWaitMs);
const terminal = TERMINAL_STATUSES.includes(final.status as never);
const result = { ok: terminal && (expectStatus === undefined || final.status === expectStatus), apiUrl, recording: final, claimed: claimed.ingest !== undefined };
console.log(JSON.stringify(result, null, 2));
if (!terminal) fail(`recording ${recording.id} is still ${final.status} after ${terminalWaitMs} ms`);
if (!result.ok) fail(`recording ${recording.id} ended ${final.status}, expected ${expectStatus}`);
