/**
 * The HTTP API handler against the real local servers (DynamoDB Local, s3rver), invoked
 * with API Gateway v2 events: the contract in API.md — bodies, status codes, problem+json
 * errors, tenant isolation, idempotency, pagination, OpenAPI and health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/auth/api-keys.ts';
import { createLogger } from '../../shared/logger.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { apiClient, type ApiClient, type ApiResult } from '../../test/support/api-client.ts';
import { createApiHandler, type ApiDeps } from './app.ts';

type Adapters = Awaited<ReturnType<typeof isolatedAdapters>>;

let adapters: Adapters;
let deps: ApiDeps;
/** tenant-a's client on the main handler. */
let api: ApiClient;
/** tenant-b's client on the main handler. */
let other: ApiClient;
/** No Authorization header at all. */
let anonymous: ApiClient;
const keys: Record<string, string> = {};

const TENANTS = ['tenant-a', 'tenant-b', 'tenant-list', 'tenant-filter'] as const;
const ID = /^rec_[0-9a-z]{26}$/;

const rtp = { source: { type: 'rtp' } } as const;

/** Projects a recording's stream into the read model, exactly as the stream publisher does per record. */
async function project(id: string): Promise<void> {
  for (const event of await adapters.store.readStream(id)) await adapters.projection.apply(event);
}

async function create(client: ApiClient, body: unknown = rtp, headers: Record<string, string> = {}): Promise<ApiResult> {
  const res = await client.post('/v1/recordings', body, { headers });
  expect(res.status, res.body).toBe(201);
  return res;
}

async function createId(client: ApiClient, body: unknown = rtp): Promise<string> {
  return (await create(client, body)).json.id as string;
}

const start = (id: string, tenant = 'tenant-a') =>
  adapters.service.system(id, tenant, (now) => ({ type: 'StartRecording', data: {}, metadata: { now } }));

/** Every error is RFC 9457 problem+json, its `status` the HTTP status, with nothing from inside the server. */
function expectProblem(res: ApiResult, status: number) {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  const problem = res.json as Record<string, unknown>;
  expect(problem).toMatchObject({ status });
  expect(typeof problem['type']).toBe('string');
  expect(problem['type']).toMatch(/^https:\/\/capstan\.dev\/problems\/[a-z-]+$/);
  expect(typeof problem['title']).toBe('string');
  expect((problem['title'] as string).length).toBeGreaterThan(0);
  expect(typeof problem['detail']).toBe('string');
  expect((problem['detail'] as string).length).toBeGreaterThan(0);
  expect(problem['request_id']).toBe(res.event.requestContext.requestId);
  expect(res.headers['x-request-id']).toBe(res.event.requestContext.requestId);
  // No stack frames, no source paths.
  expect(res.body).not.toMatch(/\bat .*:\d+:\d+/);
  expect(res.body).not.toMatch(/\n\s+at /);
  expect(res.body).not.toContain('.ts:');
  expect(res.body).not.toContain('node_modules');
  return problem as { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };
}

const paths = (problem: { errors?: { path: string }[] }) => (problem.errors ?? []).map((e) => e.path);

beforeAll(async () => {
  adapters = await isolatedAdapters();
  const createdAt = new Date().toISOString();
  for (const tenant of TENANTS) {
    keys[tenant] = newApiKey();
    await adapters.apiKeys.put({ key_hash: hashApiKey(keys[tenant]), tenant_id: tenant, created_at: createdAt });
  }
  deps = apiDepsFor(adapters, { healthChecks: adapters.healthChecks });
  const handler = createApiHandler(deps);
  api = apiClient(handler, { apiKey: keys['tenant-a'] });
  other = apiClient(handler, { apiKey: keys['tenant-b'] });
  anonymous = apiClient(handler);
});

afterAll(() => {
  adapters?.dynamo.destroy();
  adapters?.s3.destroy();
});

describe('POST /v1/recordings and GET /v1/recordings/{id}', () => {
  it('creates a recording (201, Location) shaped as API.md says, and reads it back', async () => {
    const body = {
      source: { type: 'rtp' },
      recording_name: 'Weekly standup',
      metadata: { transcript_id: 'transcript-abc123', client_id: 'client-xyz', n: 3, ok: true, none: null },
      storage_settings: { key_template: '{tenant_id}/{recording_id}/{name}' },
      webhook_url: 'https://example.com/hooks/recording',
      outputs: ['composite.mp4', 'audio.m4a'],
      layout: { preset: 'grid' },
    };
    const res = await create(api, body);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const rec = res.json;
    expect(rec.id).toMatch(ID);
    expect(res.headers['location']).toBe(`/v1/recordings/${rec.id}`);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(rec).toMatchObject({
      status: 'requested',
      source: { type: 'rtp' },
      recording_name: 'Weekly standup',
      metadata: body.metadata,
      storage_settings: body.storage_settings,
      webhook_url: body.webhook_url,
      outputs: body.outputs,
      layout: body.layout,
      tracks: [],
      artifacts: [],
      ingest: null,
      failure: null,
      started_at: null,
      stopped_at: null,
      sequence: 1,
    });
    expect(new Date(rec.created_at).toISOString()).toBe(rec.created_at);
    expect(rec.updated_at).toBe(rec.created_at);
    expect(rec).not.toHaveProperty('tenant_id');
    expect(rec).not.toHaveProperty('version');

    const got = await api.get(`/v1/recordings/${rec.id}`);
    expect(got.status).toBe(200);
    expect(got.json.id).toBe(rec.id);
    expect(got.json).toEqual(rec);
  });

  it('fills defaults for a minimal body', async () => {
    const rec = (await create(api, { source: { type: 'stream', encoding: 'pcm_s16le', sample_rate: 16000 } })).json;
    expect(rec).toMatchObject({
      status: 'requested',
      source: { type: 'stream', encoding: 'pcm_s16le', sample_rate: 16000 },
      recording_name: null,
      metadata: {},
      webhook_url: null,
      outputs: ['audio.wav'],
      layout: { preset: 'audio_only' },
      storage_settings: { key_template: '{tenant_id}/{recording_id}/{name}' },
    });
  });

  it('accepts application/json with a charset parameter', async () => {
    await create(api, JSON.stringify(rtp), { 'content-type': 'application/json; charset=utf-8' });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body (201, identical body, idempotent-replayed)', async () => {
    const key = `idem-${newApiKey()}`;
    const body = { source: { type: 'rtp' }, metadata: { a: '1', b: 2 }, recording_name: 'replay me' };
    const first = await create(api, body, { 'Idempotency-Key': key });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with its keys in another order is the same request.
    const second = await create(api, { recording_name: 'replay me', metadata: { b: 2, a: '1' }, source: { type: 'rtp' } }, { 'Idempotency-Key': key });
    expect(second.json).toEqual(first.json);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['location']).toBe(first.headers['location']);
    expect(await adapters.store.readStream(first.json.id)).toHaveLength(1);
  });

  it('refuses the same key with another body (422)', async () => {
    const key = `idem-${newApiKey()}`;
    const first = await create(api, { source: { type: 'rtp' }, recording_name: 'one' }, { 'Idempotency-Key': key });
    const res = await api.post('/v1/recordings', { source: { type: 'rtp' }, recording_name: 'two' }, { headers: { 'Idempotency-Key': key } });
    const problem = expectProblem(res, 422);
    expect(problem.type).toBe('https://capstan.dev/problems/idempotency-key-reused');
    expect(await adapters.store.readStream(first.json.id)).toHaveLength(1);
  });

  it('scopes keys per tenant: another tenant with the same key gets its own recording', async () => {
    const key = `idem-${newApiKey()}`;
    const a = await create(api, rtp, { 'Idempotency-Key': key });
    const b = await create(other, rtp, { 'Idempotency-Key': key });
    expect(b.json.id).not.toBe(a.json.id);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('25 concurrent creates with the same key and body make one recording', async () => {
    const key = `idem-${newApiKey()}`;
    const body = { source: { type: 'rtp' }, metadata: { burst: true } };
    const results = await Promise.all(Array.from({ length: 25 }, () => api.post('/v1/recordings', body, { headers: { 'idempotency-key': key } })));
    for (const res of results) expect(res.status, res.body).toBe(201);
    const ids = new Set(results.map((r) => r.json.id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const events = await adapters.store.readStream(id!);
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('RecordingRequested');
    // Everyone got the same recording.
    for (const res of results) expect(res.json).toEqual(results[0]!.json);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === undefined).length).toBeLessThanOrEqual(1);
  });

  it('refuses a malformed Idempotency-Key (400)', async () => {
    const res = await api.post('/v1/recordings', rtp, { headers: { 'Idempotency-Key': 'has spaces in it' } });
    const problem = expectProblem(res, 400);
    expect(paths(problem)).toEqual(['Idempotency-Key']);
    const tooLong = await api.post('/v1/recordings', rtp, { headers: { 'Idempotency-Key': 'k'.repeat(256) } });
    expect(paths(expectProblem(tooLong, 400))).toEqual(['Idempotency-Key']);
  });
});

describe('400 Bad Request', () => {
  it('malformed JSON', async () => {
    const res = await api.post('/v1/recordings', '{"source": {"type": "rtp"', { headers: { 'content-type': 'application/json' } });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('https://capstan.dev/problems/malformed-json');
  });

  it('names every bad field of the body', async () => {
    const res = await api.post('/v1/recordings', {
      source: { type: 'fax' },
      metadata: { ok: 'fine', nested: { not: 'allowed' } },
      extra: 1,
      webhook_url: 'ftp://example.com/hook',
    });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('https://capstan.dev/problems/validation');
    const got = paths(problem);
    expect(got).toEqual(expect.arrayContaining(['source.type', 'metadata.nested', 'extra', 'webhook_url']));
    expect(got).not.toContain('metadata.ok');
    for (const e of problem.errors ?? []) expect(e.message.length).toBeGreaterThan(0);
  });

  it('names nested bad fields of a known source type', async () => {
    const res = await api.post('/v1/recordings', { source: { type: 'bot', meeting_url: 'not a url', join_at: 'tomorrow' }, outputs: ['audio.wav', 'audio.wav'] });
    const problem = expectProblem(res, 400);
    expect(paths(problem)).toEqual(expect.arrayContaining(['source.meeting_url', 'source.join_at', 'outputs']));
  });

  it('a missing body on create is 415 (no content type) or 400, never 500', async () => {
    const res = await api.post('/v1/recordings', undefined);
    expect([400, 415]).toContain(res.status);
    expectProblem(res, res.status);
    const empty = await api.post('/v1/recordings', '', { headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    expectProblem(empty, 400);
  });

  it('bad limit on the list names `limit`', async () => {
    for (const limit of ['0', '101', 'ten', '1.5']) {
      const problem = expectProblem(await api.get('/v1/recordings', { query: { limit } }), 400);
      expect(paths(problem), `limit=${limit}`).toEqual(['limit']);
    }
  });

  it('bad status filter names `status`', async () => {
    expect(paths(expectProblem(await api.get('/v1/recordings?status=bogus'), 400))).toEqual(['status']);
  });

  it('refuses unknown query parameters on the list', async () => {
    const problem = expectProblem(await api.get('/v1/recordings', { query: { limt: 5, sort: 'asc' } }), 400);
    expect(paths(problem).sort()).toEqual(['limt', 'sort']);
  });

  it('bad cursor names `cursor`', async () => {
    for (const cursor of ['garbage!!', Buffer.from('{"x":1}').toString('base64url')]) {
      const problem = expectProblem(await api.get('/v1/recordings', { query: { cursor } }), 400);
      expect(paths(problem)).toEqual(['cursor']);
    }
  });

  it('bad `after` / `limit` on the event log', async () => {
    const id = await createId(api);
    expect(paths(expectProblem(await api.get(`/v1/recordings/${id}/events`, { query: { after: -1 } }), 400))).toEqual(['after']);
    expect(paths(expectProblem(await api.get(`/v1/recordings/${id}/events`, { query: { limit: 0 } }), 400))).toEqual(['limit']);
  });

  it('unknown fields in a lifecycle body', async () => {
    const id = await createId(api);
    const problem = expectProblem(await api.post(`/v1/recordings/${id}/stop`, { now: true }), 400);
    expect(paths(problem)).toEqual(['now']);
    expect((await api.get(`/v1/recordings/${id}`)).json.status).toBe('requested');
  });
});

describe('401 Unauthorized', () => {
  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['the wrong scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['an unknown key', { authorization: `Bearer ${newApiKey()}` }],
  ];
  for (const [name, headers] of cases) {
    it(`refuses ${name} with www-authenticate`, async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/recordings', undefined],
        ['POST', '/v1/recordings', rtp],
        ['GET', '/v1/recordings/rec_00000000000000000000000000', undefined],
      ] as const) {
        const res = await anonymous.request(method, path, { headers, body });
        const problem = expectProblem(res, 401);
        expect(problem.type).toBe('https://capstan.dev/problems/unauthorized');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    });
  }

  it('accepts a lower-case bearer scheme', async () => {
    const res = await anonymous.get('/v1/recordings', { headers: { authorization: `bearer ${keys['tenant-a']}` } });
    expect(res.status).toBe(200);
  });

  it('/health and /openapi.json need no key', async () => {
    expect((await anonymous.get('/health')).status).toBe(200);
    expect((await anonymous.get('/openapi.json')).status).toBe(200);
  });
});

describe('404 Not Found', () => {
  it('unknown id, malformed id, unknown route', async () => {
    const unknown = expectProblem(await api.get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz'), 404);
    expect(unknown.type).toBe('https://capstan.dev/problems/not-found');
    expectProblem(await api.get('/v1/recordings/not-a-recording-id'), 404);
    expectProblem(await api.get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz/events'), 404);
    expectProblem(await api.post('/v1/recordings/nope/stop'), 404);
    expectProblem(await api.delete('/v1/recordings/nope'), 404);
    expectProblem(await api.get('/v1/nothing-here'), 404);
    expectProblem(await api.get('/v1/recordings/a/b/c'), 404);
    expectProblem(await anonymous.get('/'), 404);
  });

  it("another tenant's recording is 404 everywhere and absent from the other tenant's list", async () => {
    const id = await createId(api, { source: { type: 'rtp' }, metadata: { owner: 'a' } });
    await project(id);

    expectProblem(await other.get(`/v1/recordings/${id}`), 404);
    expectProblem(await other.get(`/v1/recordings/${id}/events`), 404);
    for (const action of ['stop', 'pause', 'resume']) expectProblem(await other.post(`/v1/recordings/${id}/${action}`), 404);
    expectProblem(await other.delete(`/v1/recordings/${id}`), 404);

    // The 404 says nothing that a missing recording would not say.
    const missing = await other.get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz');
    const foreign = await other.get(`/v1/recordings/${id}`);
    expect(foreign.json.title).toBe(missing.json.title);
    expect(foreign.json.type).toBe(missing.json.type);

    const list = await other.get('/v1/recordings', { query: { limit: 100 } });
    expect(list.status).toBe(200);
    expect(list.json.items.map((r: { id: string }) => r.id)).not.toContain(id);
    const filtered = await other.get('/v1/recordings', { query: { 'metadata.owner': 'a' } });
    expect(filtered.json.items).toEqual([]);

    // Nothing the other tenant tried changed it.
    const events = await adapters.store.readStream(id);
    expect(events).toHaveLength(1);
    expect((await api.get(`/v1/recordings/${id}`)).json.status).toBe('requested');
    expect((await api.get('/v1/recordings', { query: { 'metadata.owner': 'a' } })).json.items.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});

describe('405 Method Not Allowed', () => {
  it('names the allowed methods in Allow', async () => {
    const res = await api.request('PUT', '/v1/recordings', { body: rtp });
    const problem = expectProblem(res, 405);
    expect(problem.type).toBe('https://capstan.dev/problems/method-not-allowed');
    expect(res.headers['allow']?.split(/,\s*/).sort()).toEqual(['GET', 'POST']);

    const one = await api.request('PATCH', '/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz', { body: {} });
    expectProblem(one, 405);
    expect(one.headers['allow']?.split(/,\s*/).sort()).toEqual(['DELETE', 'GET']);

    const stop = await api.get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz/stop');
    expectProblem(stop, 405);
    expect(stop.headers['allow']).toBe('POST');
  });
});

describe('409 Conflict', () => {
  it('pause or resume a requested recording', async () => {
    const id = await createId(api);
    const pause = expectProblem(await api.post(`/v1/recordings/${id}/pause`), 409);
    expect(pause.type).toBe('https://capstan.dev/problems/invalid-state');
    expect(pause.detail).toContain('requested');
    expectProblem(await api.post(`/v1/recordings/${id}/resume`), 409);
    expect(await adapters.store.readStream(id)).toHaveLength(1);
  });

  it('delete is allowed on a requested recording (202)', async () => {
    const id = await createId(api);
    const res = await api.delete(`/v1/recordings/${id}`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ id, status: 'deleted', artifacts: [], ingest: null });
    // Deleting again is a no-op, not an error.
    const again = await api.delete(`/v1/recordings/${id}`);
    expect(again.status).toBe(202);
    expect(again.json.status).toBe('deleted');
    expect(await adapters.store.readStream(id)).toHaveLength(2);
    // Metadata kept.
    expect((await api.get(`/v1/recordings/${id}`)).json).toMatchObject({ id, status: 'deleted', source: { type: 'rtp' } });
  });

  it('delete while recording is 409 (stop it first)', async () => {
    const id = await createId(api);
    await start(id);
    expect((await api.get(`/v1/recordings/${id}`)).json.status).toBe('recording');
    const problem = expectProblem(await api.delete(`/v1/recordings/${id}`), 409);
    expect(problem.detail).toMatch(/stop it first/);
    expect((await api.get(`/v1/recordings/${id}`)).json.status).toBe('recording');
    // Resume of a recording that records is a no-op (202), pause of a paused one too.
    expect((await api.post(`/v1/recordings/${id}/resume`)).status).toBe(202);
  });

  it('pause, stop, then pause or resume again is 409', async () => {
    const id = await createId(api);
    await start(id);
    expect((await api.post(`/v1/recordings/${id}/stop`)).json.status).toBe('stopping');
    expectProblem(await api.post(`/v1/recordings/${id}/pause`), 409);
    expectProblem(await api.post(`/v1/recordings/${id}/resume`), 409);
  });
});

describe('413 Payload Too Large', () => {
  it('a body over maxBodyBytes', async () => {
    const small = apiClient(createApiHandler({ ...deps, maxBodyBytes: 2048 }), { apiKey: keys['tenant-a'] });
    const body = { source: { type: 'rtp' }, recording_name: 'x'.repeat(3000) };
    const problem = expectProblem(await small.post('/v1/recordings', body), 413);
    expect(problem.type).toBe('https://capstan.dev/problems/payload-too-large');
    expect(problem.detail).toContain('2048');
    // Under the limit is fine on the same handler.
    expect((await small.post('/v1/recordings', rtp)).status).toBe(201);
    // Checked before the content type: a huge non-JSON body is still 413.
    expectProblem(await small.post('/v1/recordings', 'y'.repeat(4096), { headers: { 'content-type': 'text/plain' } }), 413);
    // Lifecycle bodies are capped too.
    const id = await createId(api);
    expectProblem(await small.post(`/v1/recordings/${id}/pause`, { reason: 'z'.repeat(4000) }), 413);
  });

  it('metadata over its limits is 400 naming metadata', async () => {
    const tooManyKeys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(paths(expectProblem(await api.post('/v1/recordings', { ...rtp, metadata: tooManyKeys }), 400))).toEqual(['metadata']);

    const tooManyBytes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(450)]));
    expect(paths(expectProblem(await api.post('/v1/recordings', { ...rtp, metadata: tooManyBytes }), 400))).toEqual(['metadata']);

    const longValue = expectProblem(await api.post('/v1/recordings', { ...rtp, metadata: { long: 'v'.repeat(501) } }), 400);
    expect(paths(longValue)).toEqual(['metadata.long']);

    const longKey = expectProblem(await api.post('/v1/recordings', { ...rtp, metadata: { ['k'.repeat(41)]: 1 } }), 400);
    expect(paths(longKey)[0]).toMatch(/^metadata/);

    // At the limits is fine.
    const atLimit = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(100)]));
    expect((await api.post('/v1/recordings', { ...rtp, metadata: atLimit })).status).toBe(201);
  });
});

describe('415 Unsupported Media Type', () => {
  it('text/plain on POST /v1/recordings', async () => {
    const res = await api.post('/v1/recordings', JSON.stringify(rtp), { headers: { 'content-type': 'text/plain' } });
    const problem = expectProblem(res, 415);
    expect(problem.type).toBe('https://capstan.dev/problems/unsupported-media-type');
    expect(problem.detail).toContain('application/json');
  });

  it('form bodies and binary bodies too', async () => {
    expectProblem(await api.post('/v1/recordings', 'source=rtp', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    expectProblem(await api.post('/v1/recordings', Buffer.from([0, 1, 2, 3]), { headers: { 'content-type': 'application/octet-stream' } }), 415);
  });
});

describe('500 Internal Server Error', () => {
  it('says nothing from inside the server, and logs the error', async () => {
    const lines: string[] = [];
    const handler = createApiHandler({
      ...deps,
      logger: createLogger('error', {}, (line) => lines.push(line)),
      service: {
        ...adapters.service,
        get: async () => {
          throw new Error('secret internal detail /x.ts:12');
        },
      },
    });
    const res = await apiClient(handler, { apiKey: keys['tenant-a'] }).get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz');
    const problem = expectProblem(res, 500);
    expect(problem.type).toBe('https://capstan.dev/problems/internal');
    expect(problem.detail).toContain(res.event.requestContext.requestId);
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('.ts');
    expect(res.body).not.toContain('/x');
    expect(lines.some((line) => line.includes('secret internal detail'))).toBe(true);
  });

  it('expected errors are not logged as errors', async () => {
    const lines: string[] = [];
    const handler = createApiHandler({ ...deps, logger: createLogger('error', {}, (line) => lines.push(line)) });
    await apiClient(handler, { apiKey: keys['tenant-a'] }).get('/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz');
    await apiClient(handler).get('/v1/recordings');
    expect(lines).toEqual([]);
  });
});

describe('lifecycle: stop, pause, resume, delete', () => {
  it('stop on a requested recording fails it with stopped_before_start', async () => {
    const id = await createId(api);
    const res = await api.post(`/v1/recordings/${id}/stop`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ id, status: 'failed', failure: { code: 'stopped_before_start' } });
    expect(res.json.failure.message.length).toBeGreaterThan(0);
    // A failed recording cannot be stopped again (an empty JSON body is accepted as no body).
    const again = await api.post(`/v1/recordings/${id}/stop`, {});
    expect(again.status).toBe(409);
  });

  it('pause, resume, stop a recording in progress (202 with the recording)', async () => {
    const id = await createId(api);
    await start(id);
    const paused = await api.post(`/v1/recordings/${id}/pause`, { reason: 'coffee' });
    expect(paused.status).toBe(202);
    expect(paused.json).toMatchObject({ id, status: 'paused', sequence: 3 });
    const pausedAgain = await api.post(`/v1/recordings/${id}/pause`);
    expect(pausedAgain.status).toBe(202);
    expect(pausedAgain.json.sequence).toBe(3);
    const resumed = await api.post(`/v1/recordings/${id}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.json).toMatchObject({ id, status: 'recording', sequence: 4 });
    const stopped = await api.post(`/v1/recordings/${id}/stop`);
    expect(stopped.status).toBe(202);
    expect(stopped.json).toMatchObject({ id, status: 'stopping', sequence: 5 });
    expect((await api.get(`/v1/recordings/${id}`)).json).toEqual(stopped.json);
  });

  it('GET /events: ordered sequences 1..n, `after` filters, `limit` + next_cursor pages', async () => {
    const id = await createId(api);
    await start(id);
    await api.post(`/v1/recordings/${id}/pause`, { reason: 'break' });
    await api.post(`/v1/recordings/${id}/resume`);
    await api.post(`/v1/recordings/${id}/stop`);

    const all = await api.get(`/v1/recordings/${id}/events`);
    expect(all.status).toBe(200);
    expect(all.json.next_cursor).toBeNull();
    const items = all.json.items as { id: string; sequence: number; type: string; occurred_at: string; data: Record<string, unknown> }[];
    expect(items.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(items.map((e) => e.type)).toEqual(['RecordingRequested', 'RecordingStarted', 'RecordingPaused', 'RecordingResumed', 'RecordingStopRequested']);
    expect(items[2]?.data).toMatchObject({ reason: 'break' });
    expect(new Set(items.map((e) => e.id)).size).toBe(5);
    for (const e of items) {
      expect(e).toEqual(expect.objectContaining({ schema_version: expect.any(Number), occurred_at: expect.any(String) }));
      expect(e).not.toHaveProperty('tenant_id');
    }
    // The API's requests carry their request id as the correlation id.
    expect(items[2]).toHaveProperty('correlation_id');

    const after = await api.get(`/v1/recordings/${id}/events`, { query: { after: 3 } });
    expect(after.json.items.map((e: { sequence: number }) => e.sequence)).toEqual([4, 5]);
    expect((await api.get(`/v1/recordings/${id}/events`, { query: { after: 5 } })).json).toEqual({ items: [], next_cursor: null });

    const seen: number[] = [];
    let cursor: string | null = '0';
    let pages = 0;
    while (cursor !== null) {
      const page: ApiResult = await api.get(`/v1/recordings/${id}/events`, { query: { after: cursor, limit: 2 } });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((e: { sequence: number }) => e.sequence));
      cursor = page.json.next_cursor;
      pages++;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(pages).toBe(3);
    // A page that ends exactly at the last event says there is no more.
    expect((await api.get(`/v1/recordings/${id}/events`, { query: { limit: 5 } })).json.next_cursor).toBeNull();
  });
});

describe('GET /v1/recordings (list)', () => {
  it('pages through 25 recordings newest first, without duplicates or gaps', async () => {
    const client = api.as(keys['tenant-list']);
    const created: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = await createId(client, { source: { type: 'rtp' }, metadata: { i } });
      created.push(id);
      await project(id);
    }
    const expected = [...created].reverse();

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res: ApiResult = await client.get('/v1/recordings', { query: { limit: 10, ...(cursor === undefined ? {} : { cursor }) } });
      expect(res.status).toBe(200);
      sizes.push(res.json.items.length);
      seen.push(...res.json.items.map((r: { id: string }) => r.id));
      if (res.json.next_cursor === null) break;
      expect(typeof res.json.next_cursor).toBe('string');
      cursor = res.json.next_cursor;
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(25);

    // Default limit is 20; an exact-size page has no next cursor.
    const first = await client.get('/v1/recordings');
    expect(first.json.items).toHaveLength(20);
    expect(first.json.next_cursor).not.toBeNull();
    const exact = await client.get('/v1/recordings', { query: { limit: 25 } });
    expect(exact.json.items.map((r: { id: string }) => r.id)).toEqual(expected);
    expect(exact.json.next_cursor).toBeNull();
    // Items are recording resources, like GET /{id} (the projection is caught up).
    expect(exact.json.items[0]).toEqual((await client.get(`/v1/recordings/${expected[0]}`)).json);
  });

  it('filters by status and by metadata (string, number, boolean)', async () => {
    const client = api.as(keys['tenant-filter']);
    const xyz = await createId(client, { source: { type: 'rtp' }, metadata: { client_id: 'xyz', n: 5, flag: true } });
    const abc = await createId(client, { source: { type: 'rtp' }, metadata: { client_id: 'abc', n: 6, flag: false } });
    const xyzStopped = await createId(client, { source: { type: 'rtp' }, metadata: { client_id: 'xyz', n: 7 } });
    const plain = await createId(client, { source: { type: 'rtp' } });
    expect((await client.post(`/v1/recordings/${xyzStopped}/stop`)).json.status).toBe('failed');
    for (const id of [xyz, abc, xyzStopped, plain]) await project(id);

    const ids = async (query: Record<string, string | number>) => {
      const res = await client.get('/v1/recordings', { query });
      expect(res.status, res.body).toBe(200);
      return res.json.items.map((r: { id: string }) => r.id) as string[];
    };
    expect(await ids({})).toEqual([plain, xyzStopped, abc, xyz]);
    expect(await ids({ status: 'failed' })).toEqual([xyzStopped]);
    expect(await ids({ status: 'requested' })).toEqual([plain, abc, xyz]);
    expect(await ids({ status: 'recording' })).toEqual([]);
    expect(await ids({ 'metadata.client_id': 'xyz' })).toEqual([xyzStopped, xyz]);
    expect(await ids({ 'metadata.client_id': 'xyz', status: 'requested' })).toEqual([xyz]);
    expect(await ids({ 'metadata.client_id': 'nobody' })).toEqual([]);
    expect(await ids({ 'metadata.n': 5 })).toEqual([xyz]);
    expect(await ids({ 'metadata.n': '6' })).toEqual([abc]);
    expect(await ids({ 'metadata.flag': 'true' })).toEqual([xyz]);
    expect(await ids({ 'metadata.flag': 'false' })).toEqual([abc]);
    expect(await ids({ 'metadata.client_id': 'xyz', 'metadata.n': 7 })).toEqual([xyzStopped]);

    // Filtered pages still page correctly.
    const page1 = await client.get('/v1/recordings', { query: { 'metadata.client_id': 'xyz', limit: 1 } });
    expect(page1.json.items.map((r: { id: string }) => r.id)).toEqual([xyzStopped]);
    expect(page1.json.next_cursor).not.toBeNull();
    const page2 = await client.get('/v1/recordings', { query: { 'metadata.client_id': 'xyz', limit: 1, cursor: page1.json.next_cursor } });
    expect(page2.json.items.map((r: { id: string }) => r.id)).toEqual([xyz]);
    expect(page2.json.next_cursor).toBeNull();
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document generated from the routes', async () => {
    const res = await anonymous.get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.paths['/v1/recordings']).toHaveProperty('post');
    expect(doc.paths['/v1/recordings']).toHaveProperty('get');
    expect(doc.paths['/v1/recordings/{id}']).toHaveProperty('get');
    expect(doc.paths['/v1/recordings/{id}']).toHaveProperty('delete');
    for (const action of ['stop', 'pause', 'resume']) expect(doc.paths[`/v1/recordings/{id}/${action}`]).toHaveProperty('post');
    expect(doc.paths['/v1/recordings/{id}/events']).toHaveProperty('get');

    const create = doc.paths['/v1/recordings'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['source', 'metadata', 'webhook_url', 'recording_name', 'storage_settings', 'outputs', 'layout']));
    expect(schema.required).toContain('source');
    expect(create.responses['201'].content['application/json'].schema).toBeDefined();
    expect(create.responses['400'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(create.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');

    const list = doc.paths['/v1/recordings'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'status']));
    expect(doc.paths['/v1/recordings/{id}'].get.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path', required: true }));

    const problem = doc.components.schemas.Problem;
    expect(problem).toBeDefined();
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail']));
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(create.security).toEqual([{ bearer: [] }]);
  });
});

describe('GET /health', () => {
  it('200 ok when every dependency answers', async () => {
    const res = await anonymous.get('/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', checks: { event_store: 'ok', object_store: 'ok' } });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('503 degraded when a check fails', async () => {
    const handler = createApiHandler({
      ...deps,
      healthChecks: {
        ...adapters.healthChecks,
        queue: async () => {
          throw new Error('connection refused');
        },
      },
    });
    const res = await apiClient(handler).get('/health');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'degraded', checks: { event_store: 'ok', object_store: 'ok', queue: 'failing' } });
    expect(res.body).not.toContain('connection refused');
  });
});
