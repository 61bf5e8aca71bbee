/**
 * `GET /v1/events` through the API handler against DynamoDB Local: the tenant's integration
 * events in id order, paged by cursor, isolated per tenant, settled before they are served.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/auth/api-keys.ts';
import { fixedClock } from '../../shared/clock.ts';
import type { IntegrationEvent } from '../../shared/integration/integration-event.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { apiClient, type ApiClient } from '../../test/support/api-client.ts';
import { createApiHandler } from './app.ts';

let a: ApiClient;
let b: ApiClient;
const NOW = '2026-11-23T12:00:00.000Z';
const event = (n: number, tenant: string, secondsAgo: number): IntegrationEvent => ({
  id: `evt_01J${String(n).padStart(23, '0')}`,
  type: 'recording.started',
  recording_id: `rec_${String(n).padStart(26, '0')}`,
  tenant_id: tenant,
  sequence: 3,
  occurred_at: new Date(Date.parse(NOW) - secondsAgo * 1000).toISOString(),
  source_type: 'rtp',
  metadata: { n },
  data: { started_at: NOW },
});

beforeAll(async () => {
  const adapters = await isolatedAdapters();
  const keys = { a: newApiKey(), b: newApiKey() };
  await adapters.apiKeys.put({ key_hash: hashApiKey(keys.a), tenant_id: 'tenant-a', created_at: NOW });
  await adapters.apiKeys.put({ key_hash: hashApiKey(keys.b), tenant_id: 'tenant-b', created_at: NOW });
  // Five settled events for tenant-a (one of them written twice), one too recent, one for tenant-b.
  await adapters.feed.append([event(1, 'tenant-a', 60), event(2, 'tenant-a', 50), event(3, 'tenant-a', 40), event(3, 'tenant-a', 40), event(4, 'tenant-a', 30), event(5, 'tenant-a', 20)]);
  await adapters.feed.append([event(6, 'tenant-a', 1), event(7, 'tenant-b', 30)]);
  const handler = createApiHandler(apiDepsFor(adapters, { clock: fixedClock(NOW), feedSettleMs: 2000, maxBodyBytes: 1024 }));
  a = apiClient(handler, { apiKey: keys.a });
  b = apiClient(handler, { apiKey: keys.b });
});

describe('GET /v1/events', () => {
  it('pages through the tenant’s settled events in order, each once, and resumes from the cursor', async () => {
    const first = await a.get('/v1/events', { query: { limit: 2 } });
    expect(first.status).toBe(200);
    expect(first.json.items.map((e: { metadata: { n: number } }) => e.metadata.n)).toEqual([1, 2]);
    expect(first.json.items[0]).toEqual(event(1, 'tenant-a', 60));
    const rest = await a.get('/v1/events', { query: { after: first.json.next_cursor, limit: 10 } });
    expect(rest.json.items.map((e: { metadata: { n: number } }) => e.metadata.n)).toEqual([3, 4, 5]);
    // Caught up: an empty page still gives a cursor to poll from; the recent event is not served yet.
    const caughtUp = await a.get('/v1/events', { query: { after: rest.json.next_cursor } });
    expect(caughtUp.json).toEqual({ items: [], next_cursor: rest.json.next_cursor });
  });

  it('never shows another tenant’s events', async () => {
    const page = await b.get('/v1/events');
    expect(page.json.items.map((e: { tenant_id: string }) => e.tenant_id)).toEqual(['tenant-b']);
  });

  it('400 names a bad cursor or limit', async () => {
    const bad = await a.get('/v1/events', { query: { after: 'nope', limit: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit']);
    const cursor = await a.get('/v1/events', { query: { after: 'bm9wZQ' } });
    expect(cursor.json.errors).toEqual([{ path: 'after', message: 'is not a cursor this API returned' }]);
  });
});
