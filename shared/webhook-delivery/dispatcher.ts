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
import type { DeliveryKey, DeliveryStore, ScanPosition } from './store.ts';

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

const at = (iso: string, plusSeconds: number) => new Date(Date.parse(iso) + plusSeconds * 1000).toISOString();

export function webhookDispatcher(deps: DispatcherDeps) {
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
      expires_at: Math.floor(Date.parse(event.occurred_at) / 1000) + DELIVERY_RETENTION_DAYS * 86_400,
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

  type Where = { url: string; secrets: string[] } | { skip: string };
  interface Settled {
    readonly status: DeliveryStatus;
    readonly log: DeliveryAttempt;
    readonly nextAttemptAt: string | null;
  }

  /**
   * Sends attempt `attemptNo` and decides what follows. A retry is scheduled here, before the
   * result is written: if the write fails, the message still comes, and its claim (attempt
   * n + 1 expects n made) holds.
   */
  async function settle(delivery: Delivery, attemptNo: number, round: number, where: Where, startedAt: string): Promise<Settled> {
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
      at: startedAt,
      status: 'status' in outcome ? outcome.status : null,
      outcome: outcome.outcome,
      error: outcome.outcome === 'retry' ? (outcome.error ?? `HTTP ${outcome.status}`) : outcome.outcome === 'refused' || outcome.outcome === 'skipped' ? outcome.reason : outcome.outcome === 'disable' ? 'HTTP 410 Gone' : null,
      duration_ms: outcome.duration_ms,
    };
    switch (outcome.outcome) {
      case 'delivered':
        return { status: 'delivered', log, nextAttemptAt: null };
      case 'disable':
      case 'refused':
      case 'skipped':
        return { status: 'failed', log, nextAttemptAt: null };
      case 'retry': {
        const wait = nextRetryDelaySeconds(attemptNo, { retryAfter: outcome.retry_after, now: Date.parse(finishedAt), random: deps.random, delays: deps.retryDelaysSeconds });
        if (wait === null) return { status: 'dead', log, nextAttemptAt: null };
        const nextAttemptAt = at(finishedAt, wait);
        await deps.queue.schedule(
          { tenant_id: delivery.tenant_id, target: delivery.target, event_id: delivery.event_id, round, attempt: attemptNo + 1, due_at: nextAttemptAt },
          sqsDelaySeconds(Date.parse(nextAttemptAt), Date.parse(finishedAt)),
        );
        return { status: 'pending', log, nextAttemptAt };
      }
    }
  }

  /** What follows a written result: the endpoint disabled (410, refused address), a dead letter, counters. */
  async function afterSettled(delivery: Delivery, settled: Settled): Promise<DeliveryStatus> {
    const { status, log } = settled;
    if ((log.outcome === 'disable' || log.outcome === 'refused') && !delivery.target.startsWith(RECORDING_TARGET_PREFIX)) {
      await deps.endpoints.disable(delivery.tenant_id, delivery.target, log.outcome === 'disable' ? 'the receiver answered 410 Gone' : `refused address: ${log.error ?? ''}`);
    }
    if (status === 'dead') {
      await deps.queue.deadLetter({ ...delivery, status, attempt_count: log.attempt, attempts: [...delivery.attempts, log], last_error: log.error });
      deps.logger.warn('webhook delivery dead after its last attempt', { target: delivery.target, eventId: delivery.event_id, attempts: log.attempt, error: log.error });
    }
    return status;
  }

  /** Attempt `attempt` of the delivery's current round, if no one else holds it (retries, replays, recovery). */
  async function attempt(key: DeliveryKey, attemptNo: number, round: number): Promise<DeliveryStatus | 'skipped'> {
    const now = deps.clock.now();
    const delivery = await deps.deliveries.claim(key, { attempt: attemptNo, round, now, leaseUntil: at(now, leaseSeconds) });
    if (delivery === null) return 'skipped';
    const settled = await settle(delivery, attemptNo, round, await destination(delivery, now), now);
    const finished = await deps.deliveries.finish(key, { attempt: attemptNo, round, status: settled.status, log: settled.log, nextAttemptAt: settled.nextAttemptAt, lastError: settled.log.error, now: deps.clock.now() });
    if (!finished) return 'skipped';
    return afterSettled(delivery, settled);
  }

  /** A delivery seen before (a redelivered event): a first attempt never made, or lost in flight, is made now; otherwise its retry message (or its result) already exists. */
  async function resume(key: DeliveryKey): Promise<void> {
    const now = deps.clock.now();
    const existing = await deps.deliveries.get(key);
    if (existing === null || existing.status !== 'pending') return;
    const lost = existing.in_flight_until !== null && existing.in_flight_until < now;
    if (existing.attempt_count === 0 || lost) await attempt(key, Math.max(1, existing.attempt_count), existing.round);
  }

  interface Target {
    readonly target: string;
    readonly url: string;
    /** Null for a recording's own webhook_url (signed with the tenant signing secret). */
    readonly endpoint: WebhookEndpoint | null;
  }

  async function targetsOf(event: IntegrationEvent, endpointsOf: (tenantId: string) => Promise<WebhookEndpoint[]>): Promise<Target[]> {
    const targets: Target[] = (await endpointsOf(event.tenant_id)).filter((endpoint) => subscribes(endpoint, event.type)).map((endpoint) => ({ target: endpoint.webhook_id, url: endpoint.url, endpoint }));
    const own = event.type === 'recording.requested' ? ((event.data['webhook_url'] as string | null | undefined) ?? null) : await deps.recordingWebhookUrl(event.tenant_id, event.recording_id);
    if (own !== null) targets.push({ target: recordingTarget(event.recording_id), url: own, endpoint: null });
    return targets;
  }

  /**
   * The fast path of a batch of events: every delivery created already holding its first
   * attempt (one transaction per 100), all first attempts in parallel, their results written
   * in batches of 25. A delivery that already existed (a redelivered event) takes the slow,
   * claim-based path. Returns, per event, the error that failed it (null: done).
   */
  async function fanOutBatch(events: readonly IntegrationEvent[]): Promise<unknown[]> {
    const errors: unknown[] = events.map(() => null);
    // One endpoint lookup (and one signing secret) per tenant per batch.
    const endpoints = new Map<string, Promise<WebhookEndpoint[]>>();
    const endpointsOf = (tenantId: string) => {
      let found = endpoints.get(tenantId);
      if (found === undefined) endpoints.set(tenantId, (found = deps.endpoints.list(tenantId)));
      return found;
    };
    const now = deps.clock.now();
    const leaseUntil = at(now, leaseSeconds);
    const signing = new Map<string, Promise<string>>();
    const signingSecret = (tenantId: string) => {
      let secret = signing.get(tenantId);
      if (secret === undefined) signing.set(tenantId, (secret = deps.endpoints.signingSecret(tenantId)));
      return secret;
    };
    const planned = await Promise.allSettled(events.map((event) => targetsOf(event, endpointsOf)));
    const fresh: { delivery: Delivery; target: Target; eventIndex: number }[] = [];
    planned.forEach((plan, eventIndex) => {
      if (plan.status === 'rejected') errors[eventIndex] = plan.reason;
      else for (const target of plan.value) fresh.push({ delivery: { ...newDelivery(events[eventIndex]!, target.target, target.url, now), attempt_count: 1, in_flight_until: leaseUntil }, target, eventIndex });
    });
    if (fresh.length === 0) return errors;
    let created: boolean[];
    try {
      created = await deps.deliveries.createMany(fresh.map((f) => f.delivery));
    } catch (error) {
      for (const f of fresh) errors[f.eventIndex] = error;
      return errors;
    }
    const outcomes = await Promise.allSettled(
      fresh.map(async ({ delivery, target }, i) => {
        if (!created[i]) {
          await resume({ tenant_id: delivery.tenant_id, target: delivery.target, event_id: delivery.event_id });
          return null;
        }
        const where: Where = target.endpoint === null ? { url: target.url, secrets: [await signingSecret(delivery.tenant_id)] } : { url: target.endpoint.url, secrets: activeSecrets(target.endpoint.secrets, now) };
        const settled = await settle(delivery, 1, 1, where, now);
        const result: Delivery = { ...delivery, status: settled.status, in_flight_until: null, next_attempt_at: settled.nextAttemptAt, last_error: settled.log.error, attempts: [settled.log], updated_at: deps.clock.now() };
        return { delivery: result, settled };
      }),
    );
    const done: { delivery: Delivery; settled: Settled; eventIndex: number }[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') errors[fresh[i]!.eventIndex] = outcome.reason;
      else if (outcome.value !== null) done.push({ ...outcome.value, eventIndex: fresh[i]!.eventIndex });
    });
    try {
      await deps.deliveries.putMany(done.map((d) => d.delivery));
    } catch (error) {
      // The attempts were made; a redelivered event finds them in flight and, once their lease lapses, attempts again.
      for (const d of done) errors[d.eventIndex] = error;
      return errors;
    }
    const follow = await Promise.allSettled(done.map((d) => afterSettled(d.delivery, d.settled)));
    follow.forEach((f, i) => {
      if (f.status === 'rejected') errors[done[i]!.eventIndex] = f.reason;
    });
    return errors;
  }

  return {

    /** Fan a batch of events out (see fanOutBatch): per event, the error that failed it, or null. */
    fanOutBatch,

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

    /**
     * Puts every pending delivery back on the retry queue (resumeMessage). For a runtime whose
     * queue does not survive a restart (the local one keeps SQS in memory): nothing pending in
     * the table is left without a message. Returns how many were requeued.
     */
    async requeuePending(): Promise<number> {
      let count = 0;
      let next: ScanPosition | undefined;
      do {
        const page = await deps.deliveries.scanPending(next);
        const now = deps.clock.now();
        for (const delivery of page.items) {
          const { message, delaySeconds } = resumeMessage(delivery, now);
          await deps.queue.schedule(message, delaySeconds);
          count++;
        }
        next = page.next ?? undefined;
      } while (next !== undefined);
      return count;
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

/**
 * The retry message that picks a pending delivery up where it stands, and how long SQS should
 * hold it. Sending it when one already exists is harmless: the claim lets one attempt through.
 * - never attempted (its creator died before the first attempt): attempt 1, now;
 * - an attempt in flight: the same attempt once its lease lapses (a lost attempt is retaken);
 * - between attempts: the next attempt at its `next_attempt_at`.
 */
export function resumeMessage(delivery: Delivery, now: string): { message: RetryMessage; delaySeconds: number } {
  const key = { tenant_id: delivery.tenant_id, target: delivery.target, event_id: delivery.event_id, round: delivery.round };
  const nowMs = Date.parse(now);
  const inFlight = delivery.in_flight_until !== null;
  const due = inFlight ? delivery.in_flight_until! : delivery.attempt_count === 0 ? now : (delivery.next_attempt_at ?? now);
  // The claim needs the lease lapsed (`<`), and `retry` acts on a message up to 1 s early:
  // be due just over a second after the lease.
  const dueMs = Math.max(nowMs, Date.parse(due) + (inFlight ? 1001 : 0));
  const attempt = inFlight ? Math.max(1, delivery.attempt_count) : delivery.attempt_count + 1;
  return { message: { ...key, attempt, due_at: new Date(dueMs).toISOString() }, delaySeconds: sqsDelaySeconds(dueMs, nowMs) };
}
