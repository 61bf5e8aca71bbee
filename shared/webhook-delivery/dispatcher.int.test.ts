/**
 * The webhook dispatcher end to end on real parts: DynamoDB Local (deliveries, endpoints),
 * local-aws-sqs (the fan-out queue, the retry queue with real DelaySeconds, the dead-letter
 * queue), the Lambda-shaped handlers fed by the same queue consumer the local runtime uses,
 * the API handler for the delivery log and replays, and a receiver that verifies every
 * request with the `standardwebhooks` library and applies each webhook-id once.
 */
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../functions/api/app.ts';
import { createWebhookFanoutHandler } from '../../functions/webhook-fanout/app.ts';
import { createWebhookRetryHandler } from '../../functions/webhook-retry/app.ts';
import { ensureQueues, type QueueUrls } from '../../local/bootstrap.ts';
import { invokeLocally } from '../../local/lambda-context.ts';
import { startQueueConsumer } from '../../local/queue-consumer.ts';
import { apiClient, type ApiClient } from '../../test/support/api-client.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { hashApiKey, newApiKey } from '../auth/api-keys.ts';
import { sqsClient } from '../aws/clients.ts';
import { envelope } from '../integration/envelope.ts';
import type { IntegrationEvent } from '../integration/integration-event.ts';
import type { IntegrationEventType } from '../integration/event-types.ts';
import { silentLogger } from '../logger.ts';
import { buildDeliveryLog, buildWebhookDispatcher, type Adapters } from '../wiring.ts';
import type { WebhookDispatcher } from './dispatcher.ts';

const TENANT = 'tenant-hooks';
let adapters: Adapters & { config: { CAPSTAN_WEBHOOK_RETRY_SCHEDULE?: number[] | undefined } };
let sqs: SQSClient;
let queues: QueueUrls;
let dispatcher: WebhookDispatcher;
let receiver: WebhookReceiver;
let api: ApiClient;
const consumers: { stop(): Promise<void> }[] = [];

function event(type: IntegrationEventType, data: Record<string, unknown> = {}, recordingId = `rec_${ulid().toLowerCase()}`): IntegrationEvent {
  return { id: `evt_${ulid().toLowerCase()}`, type, recording_id: recordingId, tenant_id: TENANT, sequence: 1, occurred_at: new Date().toISOString(), source_type: 'rtp', metadata: { client: 'x' }, data };
}

async function publish(...events: IntegrationEvent[]): Promise<void> {
  for (const e of events) await sqs.send(new SendMessageCommand({ QueueUrl: queues.webhookEvents.url, MessageBody: JSON.stringify(envelope(e, { id: randomBytes(8).toString('hex') })) }));
}

async function subscribe(path: string, eventTypes: string[]): Promise<string> {
  const created = await api.post('/v1/webhooks', { url: receiver.url(path), event_types: eventTypes });
  expect(created.status, created.body).toBe(201);
  receiver.secrets.set(path, created.json.secret as string);
  return created.json.id as string;
}

const requestsFor = (eventId: string, path: string) => receiver.requests.filter((r) => r.webhookId === eventId && r.path === path);

beforeAll(async () => {
  // Three retries, one second apart: the whole schedule runs in seconds.
  const isolated = await isolatedAdapters({ overrides: { CAPSTAN_WEBHOOK_ALLOWLIST: '127.0.0.1', CAPSTAN_WEBHOOK_RETRY_SCHEDULE: '1,1,1' } });
  adapters = isolated;
  sqs = sqsClient(isolated.config);
  queues = await ensureQueues(sqs, `t${randomBytes(4).toString('hex')}-`);
  dispatcher = buildWebhookDispatcher(isolated, isolated.config, {
    sqs,
    logger: silentLogger,
    retryQueueUrl: queues.webhookRetries.url,
    deadLetterQueueUrl: queues.webhookRetries.dlqUrl,
    random: () => 0.5,
  });
  receiver = await startWebhookReceiver();
  const key = newApiKey();
  await isolated.apiKeys.put({ key_hash: hashApiKey(key), tenant_id: TENANT, created_at: '2026-12-07T00:00:00.000Z' });
  api = apiClient(createApiHandler(apiDepsFor(isolated, { deliveries: buildDeliveryLog(isolated, dispatcher) })), { apiKey: key });
  const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
  consumers.push(
    startQueueConsumer({ sqs, queueUrl: queues.webhookEvents.url, queueArn: arn('events'), handler: invokeLocally('fanout', createWebhookFanoutHandler({ dispatcher, logger: silentLogger })), logger: silentLogger }),
    startQueueConsumer({ sqs, queueUrl: queues.webhookRetries.url, queueArn: arn('retries'), handler: invokeLocally('retry', createWebhookRetryHandler({ dispatcher, logger: silentLogger })), logger: silentLogger }),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await receiver?.close();
});

describe('webhook dispatcher', () => {
  it('fans out to each subscribed endpoint and the recording’s webhook_url, signed so standardwebhooks verifies', async () => {
    await subscribe('/only-completed', ['recording.completed']);
    await subscribe('/all', ['*']);
    receiver.secrets.set('/recording', (await api.get('/v1/webhooks/signing-secret')).json.secret as string);
    const rec = `rec_${ulid().toLowerCase()}`;
    const requested = event('recording.requested', { webhook_url: receiver.url('/recording') }, rec);
    const completed = event('recording.completed', { duration_seconds: 3, artifacts: [] }, rec);
    await publish(requested, completed);
    // /all gets both, /only-completed one, /recording the recording.requested (the read model has no view here).
    await receiver.waitFor(() => receiver.requests.length >= 4);
    const byPath = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => r.event.type).sort();
    expect(byPath('/all')).toEqual(['recording.completed', 'recording.requested']);
    expect(byPath('/only-completed')).toEqual(['recording.completed']);
    expect(byPath('/recording')).toEqual(['recording.requested']);
    expect(receiver.rejected).toEqual([]);
    const got = receiver.requests.find((r) => r.path === '/only-completed')!;
    expect(got.webhookId).toBe(completed.id);
    expect(got.event).toEqual(completed);
  });

  it('retries a failing receiver until it answers (exponential schedule on the real retry queue) and logs every attempt', async () => {
    const id = await subscribe('/flaky', ['recording.started']);
    const e = event('recording.started');
    let calls = 0;
    receiver.respond = (ev, path) => (path === '/flaky' && ev.id === e.id && ++calls <= 2 ? 503 : 204);
    await publish(e);
    await receiver.waitFor(() => receiver.appliedAt('/flaky', e.id), 20_000);
    expect(requestsFor(e.id, '/flaky')).toHaveLength(3);
    // The result is written just after the receiver answered: the log catches up a moment later.
    let delivery: Record<string, unknown> & { attempts: { outcome: string; status: number }[] } = { attempts: [] };
    await waitUntil(async () => {
      const log = await api.get(`/v1/webhooks/${id}/deliveries`);
      expect(log.status, log.body).toBe(200);
      delivery = log.json.items[0];
      return delivery.status === 'delivered';
    });
    expect(delivery).toMatchObject({ id: e.id, event_type: 'recording.started', status: 'delivered', attempt_count: 3 });
    expect(delivery.attempts.map((a: { outcome: string; status: number }) => [a.outcome, a.status])).toEqual([
      ['retry', 503],
      ['retry', 503],
      ['delivered', 204],
    ]);
    // The second attempt came about one retry delay (1 s ± 20 %) after the first.
    const [first, second] = requestsFor(e.id, '/flaky');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(700);
  });

  it('honours Retry-After on 429', async () => {
    await subscribe('/busy', ['recording.paused']);
    const e = event('recording.paused');
    let calls = 0;
    receiver.respond = (ev, path) => (path === '/busy' && ev.id === e.id && ++calls === 1 ? { status: 429, headers: { 'retry-after': '2' } } : 204);
    await publish(e);
    await receiver.waitFor(() => receiver.appliedAt('/busy', e.id), 20_000);
    const [first, second] = requestsFor(e.id, '/busy');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1900);
  });

  it('sends a poison event to the dead-letter queue after its last attempt while the other events flow', async () => {
    const id = await subscribe('/poison', ['recording.resumed']);
    const poison = event('recording.resumed');
    const healthy = Array.from({ length: 5 }, () => event('recording.resumed'));
    receiver.respond = (ev, path) => (path === '/poison' && ev.id === poison.id ? 500 : 204);
    await publish(poison, ...healthy);
    await receiver.waitFor(() => healthy.every((h) => receiver.appliedAt('/poison', h.id)), 20_000);
    // Healthy events are not held behind the poison one: all delivered before it is even dead.
    const dead = await waitForDeadLetter(poison.id);
    expect(dead).toMatchObject({ kind: 'webhook.delivery.dead', tenant_id: TENANT, target: id, event_id: poison.id, event_type: 'recording.resumed', attempts: 4, last_error: 'HTTP 500' });
    expect(requestsFor(poison.id, '/poison')).toHaveLength(4);
    expect(receiver.appliedAt('/poison', poison.id)).toBe(false);
    let statuses: Record<string, string> = {};
    await waitUntil(async () => {
      const log = await api.get(`/v1/webhooks/${id}/deliveries?limit=10`);
      statuses = Object.fromEntries(log.json.items.map((d: { id: string; status: string }) => [d.id, d.status]));
      return statuses[poison.id] === 'dead' && healthy.every((h) => statuses[h.id] === 'delivered');
    });
    expect(statuses[poison.id]).toBe('dead');
    for (const h of healthy) expect(statuses[h.id]).toBe('delivered');

    // The log filters by status and event type, paging through what matches.
    const only = async (query: string) => (await api.get(`/v1/webhooks/${id}/deliveries?${query}`)).json as { items: { id: string; status: string }[]; next_cursor: string | null };
    expect((await only('status=dead')).items.map((d) => d.id)).toEqual([poison.id]);
    const seen: string[] = [];
    let page = await only('status=delivered&limit=2');
    for (;;) {
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((d) => d.status === 'delivered')).toBe(true);
      seen.push(...page.items.map((d) => d.id));
      if (page.next_cursor === null) break;
      page = await only(`status=delivered&limit=2&cursor=${page.next_cursor}`);
    }
    expect(seen.sort()).toEqual(healthy.map((h) => h.id).sort());
    expect((await only('event_type=recording.resumed&limit=100')).items).toHaveLength(6);
    expect((await only('event_type=recording.started')).items).toEqual([]);
    const bad = await api.get(`/v1/webhooks/${id}/deliveries?status=lost`);
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('status');
    expect((await api.get(`/v1/webhooks/${id}/deliveries?event_type=recording.nope`)).json.errors[0].path).toBe('event_type');
  });

  it('turns ten duplicate events into one delivery, and ten replays into one effect at the receiver', async () => {
    const id = await subscribe('/dupes', ['recording.stopped']);
    receiver.respond = () => 204;
    const e = event('recording.stopped');
    await publish(...Array.from({ length: 10 }, () => e));
    await receiver.waitFor(() => receiver.appliedAt('/dupes', e.id));
    await new Promise((r) => setTimeout(r, 1500)); // let any duplicate that would be sent arrive
    expect(requestsFor(e.id, '/dupes')).toHaveLength(1);
    for (let i = 0; i < 10; i++) {
      const replayed = await api.post(`/v1/webhooks/${id}/deliveries/${e.id}/replay`, {});
      expect(replayed.status, replayed.body).toBe(202);
    }
    await receiver.waitFor(() => requestsFor(e.id, '/dupes').length >= 2, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    // Rounds supersede each other: at most one attempt per replay, every one with the same webhook-id.
    const dupes = requestsFor(e.id, '/dupes');
    expect(dupes.length).toBeGreaterThanOrEqual(2);
    expect(dupes.length).toBeLessThanOrEqual(11);
    expect(new Set(dupes.map((r) => r.webhookId))).toEqual(new Set([e.id]));
    expect([...receiver.applied.keys()].filter((k) => k === `/dupes ${e.id}`)).toHaveLength(1);
    expect((await api.post(`/v1/webhooks/${id}/deliveries/evt_nope/replay`, {})).status).toBe(404);
  });

  it('disables an endpoint that answers 410 and sends it nothing more', async () => {
    const id = await subscribe('/gone', ['track.recorded']);
    await subscribe('/gone-witness', ['track.recorded']);
    receiver.respond = (_ev, path) => (path === '/gone' ? 410 : 204);
    const first = event('track.recorded');
    await publish(first);
    await receiver.waitFor(() => requestsFor(first.id, '/gone').length === 1);
    await waitUntil(async () => (await api.get(`/v1/webhooks/${id}`)).json.status === 'disabled');
    expect((await api.get(`/v1/webhooks/${id}`)).json.disabled_reason).toBe('the receiver answered 410 Gone');
    const second = event('track.recorded');
    await publish(second);
    // Once the other endpoint has it, the fan-out has decided about /gone too.
    await receiver.waitFor(() => receiver.appliedAt('/gone-witness', second.id), 20_000);
    expect(requestsFor(second.id, '/gone')).toHaveLength(0);
    const log = await api.get(`/v1/webhooks/${id}/deliveries`);
    expect(log.json.items.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([[first.id, 'failed']]);
    expect((await api.post(`/v1/webhooks/${id}/deliveries/${first.id}/replay`, {})).status).toBe(409);
  });

  it('replays a time range from the feed: events missed while disabled arrive after enabling, delivered ones are skipped', async () => {
    const id = await subscribe('/replay', ['composition.completed']);
    // A second endpoint for the same type: once it has an event, the fan-out has also passed /replay by.
    await subscribe('/replay-witness', ['composition.completed']);
    receiver.respond = () => 204;
    const since = new Date(Date.now() - 1000).toISOString();
    const delivered = event('composition.completed', { composition_id: 'cmp_1' });
    await adapters.feed.append([delivered]);
    await publish(delivered);
    await receiver.waitFor(() => receiver.appliedAt('/replay', delivered.id));
    receiver.respond = (_ev, path) => (path === '/replay' ? 410 : 204);
    const trigger = event('composition.completed', { composition_id: 'cmp_2' });
    await adapters.feed.append([trigger]);
    await publish(trigger);
    await waitUntil(async () => (await api.get(`/v1/webhooks/${id}`)).json.status === 'disabled');
    const missed = [event('composition.completed', { composition_id: 'cmp_3' }), event('composition.completed', { composition_id: 'cmp_4' })];
    await adapters.feed.append(missed);
    await publish(...missed);
    await receiver.waitFor(() => missed.every((m) => receiver.appliedAt('/replay-witness', m.id)), 20_000); // the fan-out saw them while /replay was disabled
    receiver.respond = () => 204;
    expect((await api.post(`/v1/webhooks/${id}/replay`, { since })).status).toBe(409);
    expect((await api.post(`/v1/webhooks/${id}/enable`, {})).status).toBe(200);
    const bad = await api.post(`/v1/webhooks/${id}/replay`, { since: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('since');
    const replay = await api.post(`/v1/webhooks/${id}/replay`, { since });
    expect(replay.status, replay.body).toBe(202);
    expect(replay.json, JSON.stringify((await api.get(`/v1/webhooks/${id}/deliveries`)).json)).toEqual({ replayed: 3, skipped_delivered: 1, next_since: null });
    await receiver.waitFor(() => [trigger, ...missed].every((m) => receiver.appliedAt('/replay', m.id)), 20_000);
    expect(requestsFor(delivered.id, '/replay')).toHaveLength(1);
  });

  it('reports only the malformed record of a batch as a failure; the rest are delivered', async () => {
    await subscribe('/batch', ['transcript.ready']);
    receiver.respond = () => 204;
    const good = [event('transcript.ready'), event('transcript.ready')];
    const handler = invokeLocally('fanout', createWebhookFanoutHandler({ dispatcher, logger: silentLogger }));
    const record = (messageId: string, body: string) => ({ messageId, body }) as SQSRecord;
    const result = await handler({
      Records: [record('m1', JSON.stringify(envelope(good[0]!, { id: 'a' }))), record('poison', '{"not":"an event"}'), record('m2', JSON.stringify(envelope(good[1]!, { id: 'b' })))],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
    expect(good.every((g) => receiver.appliedAt('/batch', g.id))).toBe(true);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForDeadLetter(eventId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.webhookRetries.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const message of page.Messages ?? []) {
      const body = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
      if (body['event_id'] === eventId) return body;
    }
  }
  throw new Error(`no dead letter for ${eventId}`);
}
