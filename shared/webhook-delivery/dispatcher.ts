/**
 * The webhook dispatcher. For each integration event: one delivery per subscribed endpoint
 * and one for the recording's own `webhook_url`, each attempted at once (the fast path: most
 * receivers answer the first time). A failed attempt schedules the next on the retry queue
 * (exponential backoff with jitter over more than a day, Retry-After honoured); after the
 * last one the delivery is dead and goes to the dead-letter queue. 410 and a refused
 * address end the delivery and disable the endpoint.
 *
 * Every step is idempotent (see store.ts), so the queues may deliver anything twice.
 */
import { decodeTime } from 'ulid';
import type { Clock } from '../clock.ts';
import type { IntegrationEvent } from '../integration/integration-event.ts';
import type { Logger } from '../logger.ts';
import type { DeliveryOutcome, DeliveryRequest } from '../webhook-endpoints/deliver.ts';
import { activeSecrets, subscribes, type WebhookEndpoint } from '../webhook-endpoints/model.ts';
import { nextRetryDelaySeconds, sqsDelaySeconds } from '../webhook-endpoints/retry-schedule.ts';
import { signWebhook } from '../webhook-endpoints/signature.ts';
import {
  DELIVERY_RETENTION_DAYS,
  RECORDING_TARGET_PREFIX,
  recordingTarget,
  targetKey,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryStatus,
  type RetryMessage,
} from './model.ts';
import type { DeliveryKey, DeliveryStore } from './store.ts';

/** Where later attempts wait, and where dead deliveries go. SQS in both engines. */
export interface RetryQueue {
  schedule(message: RetryMessage, delaySeconds: number): Promise<void>;
  deadLetter(delivery: Delivery): Promise<void>;
}

export interface EndpointDirectory {
  get(tenantId: string, webhookId: string): Promise<WebhookEndpoint | null>;
  list(tenantId: string): Promise<WebhookEndpoint[]>;
  disable(tenantId: string, webhookId: string, reason: string): Promise<void>;
  /** The tenant's secret for recordings' own webhook URLs. */
  signingSecret(tenantId: string): Promise<string>;
}

export interface DispatcherDeps {
  readonly deliveries: DeliveryStore;
  readonly endpoints: EndpointDirectory;
  /** The recording's own `webhook_url`, if it has one. */
  readonly recordingWebhookUrl: (tenantId: string, recordingId: string) => Promise<string | null>;
  readonly queue: RetryQueue;
  /** One attempt (shared/webhook-endpoints/deliver.ts with the allowlist bound). */
  readonly send: (request: Omit<DeliveryRequest, 'allow'>) => Promise<DeliveryOutcome>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Waits before retries 1..n (default RETRY_DELAYS_SECONDS); n retries, then dead. */
  readonly retryDelaysSeconds?: readonly number[];
  readonly random?: () => number;
  /** How long an attempt holds its delivery before another may take it over (> the 15 s send budget). */
  readonly attemptLeaseSeconds?: number;
}

export interface DispatcherStats {
  deliveries: number;
  attempts: number;
  delivered: number;
  retried: number;
  failed: number;
  dead: number;
  skipped: number;
}

const at = (iso: string, plusSeconds: number) => new Date(Date.parse(iso) + plusSeconds * 1000).toISOString();

export function webhookDispatcher(deps: DispatcherDeps) {
  const stats: DispatcherStats = { deliveries: 0, attempts: 0, delivered: 0, retried: 0, failed: 0, dead: 0, skipped: 0 };
  const leaseSeconds = deps.attemptLeaseSeconds ?? 60;

  function newDelivery(event: IntegrationEvent, target: string, url: string, now: string): Delivery {
    return {
      target_key: targetKey(event.tenant_id, target),
      event_id: event.id,
      tenant_id: event.tenant_id,
      target,
      url,
      event_type: event.type,
      recording_id: event.recording_id,
      body: JSON.stringify(event),
      status: 'pending',
      attempt_count: 0,
      round: 1,
      in_flight_until: null,
      next_attempt_at: now,
      last_error: null,
      attempts: [],
      created_at: now,
      updated_at: now,
      expires_at: Math.floor(decodeTime(event.id.slice(event.id.indexOf('_') + 1).toUpperCase()) / 1000) + DELIVERY_RETENTION_DAYS * 86_400,
    };
  }

  /** Where and how to send: the endpoint's current URL and secrets, or why not. */
  async function destination(delivery: Delivery, now: string): Promise<{ url: string; secrets: string[] } | { skip: string }> {
    if (delivery.target.startsWith(RECORDING_TARGET_PREFIX)) return { url: delivery.url, secrets: [await deps.endpoints.signingSecret(delivery.tenant_id)] };
    const endpoint = await deps.endpoints.get(delivery.tenant_id, delivery.target);
    if (endpoint === null) return { skip: 'the webhook endpoint was deleted' };
    if (endpoint.status !== 'enabled') return { skip: `the webhook endpoint is disabled (${endpoint.disabled_reason ?? 'no reason'})` };
    return { url: endpoint.url, secrets: activeSecrets(endpoint.secrets, now) };
  }

  /** Attempt `attempt` of the delivery's current round, if no one else holds it. */
  async function attempt(key: DeliveryKey, attemptNo: number, round: number): Promise<DeliveryStatus | 'skipped'> {
    const now = deps.clock.now();
    const delivery = await deps.deliveries.claim(key, { attempt: attemptNo, round, now, leaseUntil: at(now, leaseSeconds) });
    if (delivery === null) {
      stats.skipped++;
      return 'skipped';
    }
    stats.attempts++;
    const where = await destination(delivery, now);
    let outcome: DeliveryOutcome | { outcome: 'skipped'; reason: string; duration_ms: 0 };
    if ('skip' in where) outcome = { outcome: 'skipped', reason: where.skip, duration_ms: 0 };
    else {
      const timestamp = Math.floor(Date.parse(deps.clock.now()) / 1000);
      const headers = signWebhook({ id: delivery.event_id, timestamp, body: delivery.body }, where.secrets);
      outcome = await deps.send({ url: where.url, body: delivery.body, headers: { ...headers } });
    }
    const finishedAt = deps.clock.now();
    const log: DeliveryAttempt = {
      attempt: attemptNo,
      round,
      at: now,
      status: 'status' in outcome ? outcome.status : null,
      outcome: outcome.outcome,
      error: outcome.outcome === 'retry' ? (outcome.error ?? `HTTP ${outcome.status}`) : outcome.outcome === 'refused' || outcome.outcome === 'skipped' ? outcome.reason : outcome.outcome === 'disable' ? 'HTTP 410 Gone' : null,
      duration_ms: outcome.duration_ms,
    };

    let status: DeliveryStatus = 'pending';
    let nextAttemptAt: string | null = null;
    switch (outcome.outcome) {
      case 'delivered':
        status = 'delivered';
        break;
      case 'disable':
      case 'refused':
        status = 'failed';
        if (!delivery.target.startsWith(RECORDING_TARGET_PREFIX)) {
          await deps.endpoints.disable(delivery.tenant_id, delivery.target, outcome.outcome === 'disable' ? 'the receiver answered 410 Gone' : `refused address: ${outcome.reason}`);
        }
        break;
      case 'skipped':
        status = 'failed';
        break;
      case 'retry': {
        const wait = nextRetryDelaySeconds(attemptNo, { retryAfter: outcome.retry_after, now: Date.parse(finishedAt), random: deps.random, delays: deps.retryDelaysSeconds });
        if (wait === null) status = 'dead';
        else {
          nextAttemptAt = at(finishedAt, wait);
          // Scheduled before the result is written: if the write fails, the message still
          // comes, and its claim (attempt n + 1 expects n made) holds.
          await deps.queue.schedule(
            { tenant_id: delivery.tenant_id, target: delivery.target, event_id: delivery.event_id, round, attempt: attemptNo + 1, due_at: nextAttemptAt },
            sqsDelaySeconds(Date.parse(nextAttemptAt), Date.parse(finishedAt)),
          );
        }
        break;
      }
    }
    const finished = await deps.deliveries.finish(key, { attempt: attemptNo, round, status, log, nextAttemptAt, lastError: log.error, now: finishedAt });
    if (!finished) {
      stats.skipped++;
      return 'skipped';
    }
    if (status === 'dead') {
      await deps.queue.deadLetter({ ...delivery, status, attempts: [...delivery.attempts, log], last_error: log.error });
      deps.logger.warn('webhook delivery dead after its last attempt', { target: delivery.target, eventId: delivery.event_id, attempts: attemptNo, error: log.error });
    }
    if (status === 'delivered') stats.delivered++;
    else if (status === 'pending') stats.retried++;
    else if (status === 'dead') stats.dead++;
    else stats.failed++;
    return status;
  }

  /** Creates the delivery (or finds it, on a redelivered event) and makes its first attempt if it is still due. */
  async function deliverTo(event: IntegrationEvent, target: string, url: string): Promise<void> {
    const now = deps.clock.now();
    const fresh = newDelivery(event, target, url, now);
    const key: DeliveryKey = { tenant_id: event.tenant_id, target, event_id: event.id };
    if (await deps.deliveries.create(fresh)) {
      stats.deliveries++;
      await attempt(key, 1, 1);
      return;
    }
    // Seen before: a first attempt never made or lost in flight is made now; otherwise its
    // retry message (or its result) already exists.
    const existing = await deps.deliveries.get(key);
    if (existing === null || existing.status !== 'pending') return;
    const lost = existing.in_flight_until !== null && existing.in_flight_until < now;
    if (existing.attempt_count === 0 || lost) await attempt(key, Math.max(1, existing.attempt_count), existing.round);
  }

  return {
    stats,

    /**
     * Fan one event out. `endpointsOf` lets a batch share one endpoint lookup per tenant.
     * Throws if any delivery could not be recorded or attempted (the event is then retried:
     * done deliveries are not repeated).
     */
    async fanOut(event: IntegrationEvent, endpointsOf: (tenantId: string) => Promise<WebhookEndpoint[]> = (t) => deps.endpoints.list(t)): Promise<number> {
      const targets: { target: string; url: string }[] = (await endpointsOf(event.tenant_id))
        .filter((endpoint) => subscribes(endpoint, event.type))
        .map((endpoint) => ({ target: endpoint.webhook_id, url: endpoint.url }));
      const own = event.type === 'recording.requested' ? ((event.data['webhook_url'] as string | null | undefined) ?? null) : await deps.recordingWebhookUrl(event.tenant_id, event.recording_id);
      if (own !== null) targets.push({ target: recordingTarget(event.recording_id), url: own });
      const results = await Promise.allSettled(targets.map(({ target, url }) => deliverTo(event, target, url)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw new AggregateError(failed.map((r) => r.reason), `${failed.length} of ${targets.length} deliveries of ${event.id} failed to run`);
      return targets.length;
    },

    /** A retry message: wait another hop if it is early, else make the attempt. */
    async retry(message: RetryMessage): Promise<DeliveryStatus | 'skipped' | 'waiting'> {
      const nowMs = Date.parse(deps.clock.now());
      const dueMs = Date.parse(message.due_at);
      if (dueMs - nowMs > 1000) {
        await deps.queue.schedule(message, sqsDelaySeconds(dueMs, nowMs));
        return 'waiting';
      }
      return attempt({ tenant_id: message.tenant_id, target: message.target, event_id: message.event_id }, message.attempt, message.round);
    },

    /** Replay: a new round for a delivery, its first attempt on the retry queue now. */
    async replay(key: DeliveryKey): Promise<Delivery | null> {
      const now = deps.clock.now();
      const delivery = await deps.deliveries.startRound(key, now);
      if (delivery !== null) await deps.queue.schedule({ ...key, round: delivery.round, attempt: 1, due_at: now }, 0);
      return delivery;
    },

    /** Replay of an event that has no delivery to this endpoint yet (the range replay): create it, attempt via the queue. */
    async replayEvent(event: IntegrationEvent, endpoint: WebhookEndpoint): Promise<Delivery | null> {
      const now = deps.clock.now();
      const fresh = newDelivery(event, endpoint.webhook_id, endpoint.url, now);
      if (await deps.deliveries.create(fresh)) {
        await deps.queue.schedule({ tenant_id: event.tenant_id, target: endpoint.webhook_id, event_id: event.id, round: 1, attempt: 1, due_at: now }, 0);
        return fresh;
      }
      return this.replay({ tenant_id: event.tenant_id, target: endpoint.webhook_id, event_id: event.id });
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof webhookDispatcher>;
