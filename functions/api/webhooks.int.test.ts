/**
 * `/v1/webhooks` through the API handler against DynamoDB Local: registration with the SSRF
 * check (loopback refused unless allowlisted), `whsec_` secrets shown once, listing without
 * secrets, rotation, the tenant signing secret, deletion and tenant isolation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/auth/api-keys.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { apiClient, type ApiClient } from '../../test/support/api-client.ts';
import { createApiHandler } from './app.ts';

let a: ApiClient;
let b: ApiClient;

beforeAll(async () => {
  const adapters = await isolatedAdapters({ overrides: { CAPSTAN_WEBHOOK_ALLOWLIST: '127.0.0.1' } });
  const keys = { a: newApiKey(), b: newApiKey() };
  await adapters.apiKeys.put({ key_hash: hashApiKey(keys.a), tenant_id: 'tenant-a', created_at: '2026-11-23T00:00:00.000Z' });
  await adapters.apiKeys.put({ key_hash: hashApiKey(keys.b), tenant_id: 'tenant-b', created_at: '2026-11-23T00:00:00.000Z' });
  const handler = createApiHandler(apiDepsFor(adapters, { feedSettleMs: 0, maxBodyBytes: 16 * 1024 }));
  a = apiClient(handler, { apiKey: keys.a });
  b = apiClient(handler, { apiKey: keys.b });
});

describe('/v1/webhooks', () => {
  it('registers an endpoint with a whsec_ secret shown once, lists it without the secret, deletes it', async () => {
    const created = await a.post('/v1/webhooks', { url: 'http://127.0.0.1:9999/hooks', event_types: ['recording.completed', 'recording.failed'] });
    expect(created.status, created.body).toBe(201);
    expect(created.json).toMatchObject({ id: expect.stringMatching(/^wh_[0-9a-z]{26}$/), url: 'http://127.0.0.1:9999/hooks', status: 'enabled', secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
    const id = created.json.id as string;
    const list = await a.get('/v1/webhooks');
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0].secret).toBeUndefined();
    expect(list.body).not.toContain(created.json.secret);
    expect((await b.get(`/v1/webhooks/${id}`)).status).toBe(404);
    expect((await b.delete(`/v1/webhooks/${id}`)).status).toBe(404);
    expect((await a.delete(`/v1/webhooks/${id}`)).status).toBe(204);
    expect((await a.get(`/v1/webhooks/${id}`)).status).toBe(404);
  });

  it('refuses loopback, private and metadata addresses that are not allowlisted, naming url', async () => {
    for (const url of ['http://127.0.0.2:9999/x', 'http://[::1]/x', 'http://2130706434:8080/x', 'http://169.254.169.254/latest', 'http://10.0.0.1/x']) {
      const res = await a.post('/v1/webhooks', { url, event_types: ['*'] });
      expect(res.status, url).toBe(400);
      expect(res.json.errors[0].path, url).toBe('url');
    }
    const bad = await a.post('/v1/webhooks', { url: 'ftp://x', event_types: ['recording.exploded'] });
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['event_types.0', 'url']);
  });

  it('takes a caller-supplied whsec_ secret, and names secret when it is not one', async () => {
    const own = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await a.post('/v1/webhooks', { url: 'http://127.0.0.1:9999/own', event_types: ['*'], secret: own });
    expect(created.status, created.body).toBe(201);
    expect(created.json.secret).toBe(own);
    for (const secret of ['not-a-secret', `whsec_${Buffer.alloc(8).toString('base64')}`, 'whsec_***']) {
      const bad = await a.post('/v1/webhooks', { url: 'http://127.0.0.1:9999/own', event_types: ['*'], secret });
      expect(bad.status, secret).toBe(400);
      expect(bad.json.errors[0].path, secret).toBe('secret');
    }
  });

  it('rotates a secret with an overlap and gives each tenant one stable signing secret', async () => {
    const created = await a.post('/v1/webhooks', { url: 'http://127.0.0.1:9999/r', event_types: ['*'] });
    const rotated = await a.post(`/v1/webhooks/${created.json.id}/rotate-secret`, { overlap_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(created.json.secret);
    expect(Date.parse(rotated.json.previous_expires_at) - Date.now()).toBeGreaterThan(3500_000);
    const s1 = await a.get('/v1/webhooks/signing-secret');
    const s2 = await a.get('/v1/webhooks/signing-secret');
    expect(s1.json.secret).toMatch(/^whsec_/);
    expect(s2.json.secret).toBe(s1.json.secret);
    expect((await b.get('/v1/webhooks/signing-secret')).json.secret).not.toBe(s1.json.secret);
  });
});
