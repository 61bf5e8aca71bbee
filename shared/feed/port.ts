/**
 * The tenant-wide feed of integration events (`GET /v1/events?after=`): what a consumer that
 * missed webhooks reads to catch up. Ordered by event id (a ULID: time, then randomness)
 * within a tenant; a page only holds events older than the settle window, so a page a
 * consumer has read never gains an event later.
 */
import type { IntegrationEvent } from '../integration/integration-event.ts';
import { opaqueCursor } from '../cursor.ts';

export interface FeedPage {
  readonly items: IntegrationEvent[];
  /** Pass as `after` for the next page; null when nothing newer has settled yet. */
  readonly next_cursor: string | null;
}

export interface EventFeed {
  /** Idempotent: the same event written twice is one item. */
  append(events: readonly IntegrationEvent[]): Promise<void>;
  /** Events after `after` (a cursor from a previous page, or null for the start) that occurred before `settledBefore`. */
  read(tenantId: string, after: string | null, limit: number, settledBefore: string): Promise<FeedPage>;
}

export const FEED_RETENTION_DAYS = 30;

const feedCursor = opaqueCursor('e');

/** Cursors carry the last event id; the tenant always comes from the caller. Decoding gives null for a foreign cursor. */
export const encodeFeedCursor = feedCursor.encode;
export const decodeFeedCursor = feedCursor.decode;
