/**
 * The delivery store's filtered log against DynamoDB Local: DynamoDB applies a query's Limit
 * before its filter, so a filtered page reads on until it is full, and answers early (with a
 * cursor) once it has examined its budget.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { isolatedAdapters } from '../../test/support/aws.ts';
import { deliveryFixture } from '../../test/support/deliveries.ts';
import type { Delivery, DeliveryStatus } from './model.ts';
import type { DeliveryStore } from './store.ts';

let store: DeliveryStore;
const TENANT = 'tenant-store';
const NOW = '2026-12-07T12:00:00.000Z';

function delivery(eventId: string, target: string, status: DeliveryStatus, eventType = 'recording.started'): Delivery {
  return deliveryFixture({ tenant_id: TENANT, target, event_id: eventId, status, event_type: eventType, attempt_count: 1 }, NOW);
}

/** Event ids in creation order (ULIDs sort by time; the counter keeps them strictly increasing). */
const ids = (n: number) => Array.from({ length: n }, (_, i) => `evt_${ulid(Date.parse(NOW) + i).toLowerCase()}`);

beforeAll(async () => {
  store = (await isolatedAdapters()).deliveries;
}, 60_000);

describe('delivery log filters', () => {
  it('fills a filtered page across query pages, newest first, with a cursor to the rest', async () => {
    const events = ids(60);
    // Every fifth delivery failed: 12 of 60.
    await store.createMany(events.map((id, i) => delivery(id, 'wh_fill', i % 5 === 0 ? 'failed' : 'delivered', i % 2 === 0 ? 'recording.started' : 'recording.stopped')));
    const failed = events.filter((_, i) => i % 5 === 0).reverse();
    const first = await store.list(TENANT, 'wh_fill', { limit: 10, status: 'failed' });
    expect(first.items.map((d) => d.event_id)).toEqual(failed.slice(0, 10));
    const rest = await store.list(TENANT, 'wh_fill', { limit: 10, status: 'failed', before: first.next! });
    expect(rest.items.map((d) => d.event_id)).toEqual(failed.slice(10));
    expect(rest.next).toBeNull();
    // Both filters at once: failed and recording.started (i % 10 === 0).
    const both = await store.list(TENANT, 'wh_fill', { limit: 100, status: 'failed', event_type: 'recording.started' });
    expect(both.items.map((d) => d.event_id)).toEqual(events.filter((_, i) => i % 10 === 0).reverse());
    // Unfiltered pages are exactly `limit` long.
    expect((await store.list(TENANT, 'wh_fill', { limit: 7 })).items).toHaveLength(7);
  });

  it('answers a sparse filter early after its read budget, with a cursor that finds the match', async () => {
    const events = ids(1100);
    // Only the oldest delivery is dead; the 1099 newer ones were delivered.
    await store.createMany(events.map((id, i) => delivery(id, 'wh_sparse', i === 0 ? 'dead' : 'delivered')));
    const first = await store.list(TENANT, 'wh_sparse', { limit: 20, status: 'dead' });
    expect(first.items).toEqual([]);
    expect(first.next).not.toBeNull();
    const second = await store.list(TENANT, 'wh_sparse', { limit: 20, status: 'dead', before: first.next! });
    expect(second.items.map((d) => d.event_id)).toEqual([events[0]]);
    expect(second.next).toBeNull();
  }, 60_000);
});
