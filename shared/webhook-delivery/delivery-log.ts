/**
 * What the API offers on deliveries: the log of one endpoint (newest first) and replay,
 * of one delivery or of every event in a time range that the endpoint subscribes to.
 * A range replay reads the tenant feed, so it also reaches events that never had a delivery
 * to this endpoint (it was disabled, or subscribed later); by default it skips events
 * already delivered.
 */
import { encodeTime } from 'ulid';
import type { Clock } from '../clock.ts';
import type { EventFeed } from '../feed/port.ts';
import { subscribes, type WebhookEndpoint } from '../webhook-endpoints/model.ts';
import type { WebhookDispatcher } from './dispatcher.ts';
import { recordingTarget, type Delivery, type DeliveryStatus } from './model.ts';
import type { DeliveryStore } from './store.ts';
import { opaqueCursor } from '../cursor.ts';

export class DeliveryNotFoundError extends Error {
  constructor(readonly eventId: string) {
    super(`no delivery of event ${eventId} to this target`);
    this.name = 'DeliveryNotFoundError';
  }
}

export class InvalidDeliveryCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidDeliveryCursorError';
  }
}

/** Replays go nowhere while the endpoint is disabled: enable it first. */
export class WebhookDisabledError extends Error {
  constructor(readonly webhookId: string, readonly reason: string | null) {
    super(`webhook ${webhookId} is disabled (${reason ?? 'no reason given'}); enable it before replaying`);
    this.name = 'WebhookDisabledError';
  }
}

/** Most events one range replay takes; a larger range is replayed in several requests (`next_since`). */
export const MAX_REPLAY_EVENTS = 1000;

/** The lowest event id at or after `iso` (event ids are `evt_` + a lowercase ULID). */
export function eventIdFloor(iso: string): string {
  return `evt_${encodeTime(Date.parse(iso), 10).toLowerCase()}`;
}

export interface DeliveryLogDeps {
  readonly deliveries: DeliveryStore;
  readonly dispatcher: Pick<WebhookDispatcher, 'replay' | 'replayEvent'>;
  readonly feed: EventFeed;
  /** The endpoint, or throws the API's not-found error. */
  readonly endpoint: (tenantId: string, webhookId: string) => Promise<WebhookEndpoint>;
  /** Throws the API's not-found error unless the tenant has this recording. */
  readonly recording: (tenantId: string, recordingId: string) => Promise<unknown>;
  readonly clock: Clock;
}

/** A page of a delivery log: newest first, optionally only one status or event type. */
export interface PageOptions {
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly status?: DeliveryStatus | undefined;
  readonly event_type?: string | undefined;
}

const deliveryCursor = opaqueCursor('b');
function decodeCursor(cursor: string): string {
  const eventId = deliveryCursor.decode(cursor);
  if (eventId === null) throw new InvalidDeliveryCursorError();
  return eventId;
}

export function deliveryLog(deps: DeliveryLogDeps) {
  async function enabled(tenantId: string, webhookId: string): Promise<WebhookEndpoint> {
    const endpoint = await deps.endpoint(tenantId, webhookId);
    if (endpoint.status !== 'enabled') throw new WebhookDisabledError(webhookId, endpoint.disabled_reason);
    return endpoint;
  }

  async function page(tenantId: string, target: string, options: PageOptions): Promise<{ items: Delivery[]; next_cursor: string | null }> {
    const before = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const found = await deps.deliveries.list(tenantId, target, { limit: options.limit, before, status: options.status, event_type: options.event_type });
    return { items: found.items, next_cursor: found.next === null ? null : deliveryCursor.encode(found.next) };
  }

  async function replayOne(tenantId: string, target: string, eventId: string): Promise<Delivery> {
    const delivery = await deps.dispatcher.replay({ tenant_id: tenantId, target, event_id: eventId });
    if (delivery === null) throw new DeliveryNotFoundError(eventId);
    return delivery;
  }

  return {
    async list(tenantId: string, webhookId: string, options: PageOptions): Promise<{ items: Delivery[]; next_cursor: string | null }> {
      await deps.endpoint(tenantId, webhookId);
      return page(tenantId, webhookId, options);
    },

    /** Deliveries to a recording's own `webhook_url`. */
    async listForRecording(tenantId: string, recordingId: string, options: PageOptions): Promise<{ items: Delivery[]; next_cursor: string | null }> {
      await deps.recording(tenantId, recordingId);
      return page(tenantId, recordingTarget(recordingId), options);
    },

    async replay(tenantId: string, webhookId: string, eventId: string): Promise<Delivery> {
      await enabled(tenantId, webhookId);
      return replayOne(tenantId, webhookId, eventId);
    },

    /** Replays one delivery to a recording's own `webhook_url` (signed with the tenant's signing secret). */
    async replayForRecording(tenantId: string, recordingId: string, eventId: string): Promise<Delivery> {
      await deps.recording(tenantId, recordingId);
      return replayOne(tenantId, recordingTarget(recordingId), eventId);
    },

    /** Replays events in [since, until) (until defaults to now); at most MAX_REPLAY_EVENTS per call. */
    async replayRange(
      tenantId: string,
      webhookId: string,
      range: { since: string; until?: string | undefined; include_delivered?: boolean | undefined },
    ): Promise<{ replayed: number; skipped_delivered: number; next_since: string | null }> {
      const endpoint = await enabled(tenantId, webhookId);
      const until = range.until ?? deps.clock.now();
      let after: string | null = eventIdFloor(range.since);
      let replayed = 0;
      let skipped = 0;
      while (after !== null) {
        const page = await deps.feed.read(tenantId, after, 100, until);
        for (const event of page.items) {
          if (replayed >= MAX_REPLAY_EVENTS) return { replayed, skipped_delivered: skipped, next_since: event.occurred_at };
          if (!subscribes(endpoint, event.type)) continue;
          if (!range.include_delivered) {
            const existing = await deps.deliveries.get({ tenant_id: tenantId, target: webhookId, event_id: event.id });
            if (existing?.status === 'delivered') {
              skipped++;
              continue;
            }
          }
          await deps.dispatcher.replayEvent(event, endpoint);
          replayed++;
        }
        after = page.items.length === 0 ? null : page.items.at(-1)!.id;
      }
      return { replayed, skipped_delivered: skipped, next_since: null };
    },
  };
}

export type DeliveryLog = ReturnType<typeof deliveryLog>;
