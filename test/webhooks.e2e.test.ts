/**
 * Webhooks through `npm start` as users run it: recordings created over HTTP, their events
 * coming out of the real DynamoDB stream, the publisher, the local EventBridge router, the
 * fan-out and retry queues on local-aws-sqs, to a receiver that verifies every request with
 * the `standardwebhooks` library and applies each event once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from './support/runtime-process.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-webhooks-'));
const API_KEY = 'webhooks-e2e-key-0123456789abcdef';
let runtime: RuntimeProcess | undefined;
let receiver: WebhookReceiver;
let api: ReturnType<typeof http>;
const runtimeEnv = {
  CAPSTAN_DATA_DIR: dataDir,
  CAPSTAN_DEV_API_KEY: API_KEY,
  CAPSTAN_RECORDER_ENABLED: 'false',
  CAPSTAN_COMPOSITOR_ENABLED: 'false',
  CAPSTAN_WEBHOOK_ALLOWLIST: '127.0.0.1',
  // Retries 1 s, 1 s, 2 s, 2 s, 3 s, 3 s apart: a receiver down for a few seconds is caught up within the test.
  CAPSTAN_WEBHOOK_RETRY_SCHEDULE: '1,1,2,2,3,3',
  CAPSTAN_FEED_SETTLE_MS: '0',
};

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  runtime = await startRuntimeProcess(runtimeEnv);
  api = http(runtime.url, API_KEY);
});

afterAll(async () => {
  // Ctrl-C, as a user stops it: the runtime stops its DynamoDB Local, s3rver and SQS children (a SIGKILL would orphan them).
  await runtime?.stop('SIGINT').catch(() => undefined);
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface FeedEvent {
  id: string;
  type: string;
  recording_id: string;
  sequence: number;
}

async function feed(): Promise<FeedEvent[]> {
  const items: FeedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await api('GET', `/v1/events?limit=100${after ? `&after=${after}` : ''}`);
    const got = page.json!['items'] as FeedEvent[];
    items.push(...got);
    if (got.length === 0) return items;
    after = page.json!['next_cursor'] as string;
  }
}

describe('webhooks through the local runtime', () => {
  it('delivers every event once to a receiver that was down and came back up, to subscriptions and recording webhook_urls', async () => {
    const created = await api('POST', '/v1/webhooks', { url: receiver.url('/hook'), event_types: ['*'] });
    expect(created.status).toBe(201);
    receiver.secrets.set('/hook', created.json!['secret'] as string);
    receiver.secrets.set('/recording', (await api('GET', '/v1/webhooks/signing-secret')).json!['secret'] as string);
    const webhookId = created.json!['id'] as string;

    await receiver.down();
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      const recording = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, recording_name: name, webhook_url: receiver.url('/recording') });
      expect(recording.status, JSON.stringify(recording.json)).toBe(201);
      ids.push(recording.json!['id'] as string);
      // Stopped before anything started: recording.failed, then deleted: recording.deleted.
      expect((await api('POST', `/v1/recordings/${ids.at(-1)}/stop`)).status).toBe(202);
    }
    expect((await api('DELETE', `/v1/recordings/${ids[0]}`)).status).toBe(202);
    const events = await eventually(async () => {
      const all = await feed();
      return all.length >= 7 ? all : undefined;
    });
    expect(events.map((e) => e.type).sort()).toEqual([...Array(3).fill('recording.requested'), ...Array(3).fill('recording.failed'), 'recording.deleted'].sort());
    // Down long enough for first attempts to fail (connection refused) and retries to be scheduled.
    await eventually(async () => {
      const log = await api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`);
      const items = log.json!['items'] as { attempt_count: number }[];
      return items.length === 7 && items.every((d) => d.attempt_count >= 1);
    });
    expect(receiver.requests).toHaveLength(0);
    await receiver.up();

    await receiver.waitFor(() => events.every((e) => receiver.appliedAt('/hook', e.id) && receiver.appliedAt('/recording', e.id)), 60_000);
    expect(receiver.rejected).toEqual([]);
    // Applied once each, whatever arrived twice; the payload is the feed's event.
    for (const e of events) {
      expect(receiver.applied.get(`/hook ${e.id}`)).toMatchObject({ id: e.id, type: e.type, recording_id: e.recording_id, sequence: e.sequence });
    }
    expect(receiver.applied.size).toBe(14);
    // The receiver applies an event before the dispatcher has written the attempt's result, so the
    // log catches up a moment after the last request.
    type Delivery = { status: string; attempts: { outcome: string; error: string | null }[] };
    const deliveries = await eventually(async () => {
      const log = await api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`);
      const items = log.json!['items'] as Delivery[];
      return items.length === 7 && items.every((d) => d.status === 'delivered') ? items : undefined;
    });
    expect(deliveries.every((d) => d.attempts[0]!.outcome === 'retry' && d.attempts.at(-1)!.outcome === 'delivered')).toBe(true);
    // The recording's own webhook_url has its log too: requested, failed and (for the first) deleted.
    const own = await eventually(async () => {
      const response = await api('GET', `/v1/recordings/${ids[0]}/webhook-deliveries`);
      expect(response.status).toBe(200);
      const items = response.json!['items'] as { id: string; event_type: string; status: string }[];
      return items.length === 3 && items.every((d) => d.status === 'delivered') ? items : undefined;
    });
    expect(own.map((d) => [d.event_type, d.status])).toEqual([
      ['recording.deleted', 'delivered'],
      ['recording.failed', 'delivered'],
      ['recording.requested', 'delivered'],
    ]);
    expect((await api('GET', '/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz/webhook-deliveries')).status).toBe(404);

    // One of the recording's own deliveries sent again: a new round, the same webhook-id, no second effect.
    const requested = own.find((d) => d.event_type === 'recording.requested')!;
    const sentBefore = receiver.requests.filter((r) => r.path === '/recording' && r.webhookId === requested.id).length;
    const replayed = await api('POST', `/v1/recordings/${ids[0]}/webhook-deliveries/${requested.id}/replay`, {});
    expect(replayed.status, JSON.stringify(replayed.json)).toBe(202);
    expect(replayed.json).toMatchObject({ id: requested.id, event_type: 'recording.requested', round: 2 });
    await receiver.waitFor(() => receiver.requests.filter((r) => r.path === '/recording' && r.webhookId === requested.id).length === sentBefore + 1, 20_000);
    expect(receiver.applied.size).toBe(14);
    expect(receiver.rejected).toEqual([]);
    expect((await api('POST', `/v1/recordings/${ids[0]}/webhook-deliveries/evt_01jzzzzzzzzzzzzzzzzzzzzzzz/replay`, {})).status).toBe(404);
    expect((await api('POST', `/v1/recordings/rec_01jzzzzzzzzzzzzzzzzzzzzzzz/webhook-deliveries/${requested.id}/replay`, {})).status).toBe(404);
  });

  it('finishes a delivery whose retry was waiting when the runtime stopped (local SQS is in memory)', async () => {
    const created = await api('POST', '/v1/webhooks', { url: receiver.url('/restart'), event_types: ['recording.requested'] });
    expect(created.status).toBe(201);
    receiver.secrets.set('/restart', created.json!['secret'] as string);
    receiver.respond = (_event, path) => (path === '/restart' ? 503 : 204);
    const recording = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, recording_name: 'restart' });
    expect(recording.status).toBe(201);
    const deliveryOf = async () => {
      const log = await api('GET', `/v1/webhooks/${created.json!['id'] as string}/deliveries`);
      return (log.json!['items'] as { id: string; status: string; attempt_count: number; next_attempt_at: string | null }[])[0];
    };
    // Failing, with its next attempt waiting on the retry queue: stop the runtime now.
    const waiting = await eventually(async () => {
      const d = await deliveryOf();
      return d !== undefined && d.status === 'pending' && d.attempt_count >= 1 && d.next_attempt_at !== null ? d : undefined;
    });
    expect(await runtime!.stop('SIGINT')).toBe(0);
    const attemptsBefore = receiver.requests.filter((r) => r.path === '/restart').length;
    receiver.respond = () => 204;

    runtime = await startRuntimeProcess(runtimeEnv);
    api = http(runtime.url, API_KEY);
    // Nothing re-publishes the event (the stream position survived): only the requeue can send it.
    await receiver.waitFor(() => receiver.appliedAt('/restart', waiting.id), 30_000);
    const after = await eventually(async () => {
      const d = await deliveryOf();
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(after.attempt_count).toBeGreaterThan(waiting.attempt_count);
    expect(receiver.requests.filter((r) => r.path === '/restart').length).toBeGreaterThan(attemptsBefore);
    expect(runtime.stdout() + runtime.stderr()).toContain('back on the retry queue');
  });

  it('refuses the SSRF matrix at registration, for subscriptions and for recording webhook_urls', async () => {
    const refused = [
      'http://127.0.0.2/hook', // loopback (only 127.0.0.1 is allowlisted here)
      'http://[::1]/hook',
      'http://0.0.0.0/hook',
      'http://10.0.0.1/hook',
      'http://172.16.5.4/hook',
      'http://192.168.1.1/hook',
      'http://100.64.0.1/hook', // carrier-grade NAT
      'http://169.254.169.254/latest/meta-data/', // instance metadata
      'http://[fd00:ec2::254]/', // instance metadata over IPv6
      'http://[fe80::1]/hook', // link-local
      'http://[::ffff:10.0.0.1]/hook', // IPv4-mapped IPv6
      'http://[::ffff:7f00:2]/hook', // IPv4-mapped loopback, hex form
      'http://[64:ff9b::a00:1]/hook', // NAT64 of 10.0.0.1
      'http://2130706434/hook', // 127.0.0.2, decimal
      'http://0x7f000002/hook', // 127.0.0.2, hex
      'http://0177.0.0.2/hook', // 127.0.0.2, octal
      'http://10.1/hook', // 10.0.0.1, short form
      'http://224.0.0.1/hook', // multicast
      'http://user:pass@93.184.215.14/hook', // credentials in the URL
      'ftp://93.184.215.14/hook', // not http(s)
    ];
    for (const url of refused) {
      const response = await api('POST', '/v1/webhooks', { url, event_types: ['recording.completed'] });
      expect(response.status, url).toBe(400);
      expect((response.json!['errors'] as { path: string }[])[0]!.path, url).toBe('url');
      const recording = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, webhook_url: url });
      expect(recording.status, url).toBe(400);
      expect((recording.json!['errors'] as { path: string }[])[0]!.path, url).toBe('webhook_url');
    }
    const listed = await api('GET', '/v1/webhooks');
    // Only the endpoints the earlier tests registered: none of the refused ones.
    expect((listed.json!['items'] as { url: string }[]).map((w) => w.url).sort()).toEqual([receiver.url('/hook'), receiver.url('/restart')].sort());
  });
});
