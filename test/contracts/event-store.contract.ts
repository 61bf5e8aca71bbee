/**
 * The event store contract: every adapter runs this same suite (in-memory as a unit test,
 * DynamoDB against DynamoDB Local). Anything the port promises is checked here.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VersionConflictError, type EventStore, type NewEvent } from '../../shared/eventstore/port.ts';

export function newEvent(type: string, data: Record<string, unknown> = {}): NewEvent {
  return {
    event_id: `evt_${randomUUID()}`,
    type,
    schema_version: 1,
    occurred_at: '2026-11-23T10:00:00.000Z',
    tenant_id: 'tenant-a',
    correlation_id: 'req-1',
    causation_id: null,
    data,
  };
}

export function eventStoreContract(name: string, makeStore: () => Promise<EventStore> | EventStore) {
  const stream = () => `rec_${randomUUID().replaceAll('-', '').slice(0, 26)}`;

  describe(`event store contract: ${name}`, () => {
    it('reads an unknown stream as empty', async () => {
      const store = await makeStore();
      expect(await store.readStream(stream())).toEqual([]);
    });

    it('appends to a new stream at expected version 0 and reads back every field', async () => {
      const store = await makeStore();
      const id = stream();
      const event = newEvent('RecordingRequested', { nested: { list: [1, 'two', null], flag: true }, empty: '' });
      const result = await store.appendToStream(id, 0, [event]);
      expect(result.nextExpectedVersion).toBe(1);
      expect(await store.readStream(id)).toEqual([{ ...event, stream_id: id, version: 1 }]);
    });

    it('appends several events atomically with consecutive versions', async () => {
      const store = await makeStore();
      const id = stream();
      await store.appendToStream(id, 0, [newEvent('A')]);
      const result = await store.appendToStream(id, 1, [newEvent('B'), newEvent('C'), newEvent('D')]);
      expect(result.nextExpectedVersion).toBe(4);
      const events = await store.readStream(id);
      expect(events.map((e) => [e.version, e.type])).toEqual([[1, 'A'], [2, 'B'], [3, 'C'], [4, 'D']]);
    });

    it('refuses an append at a stale expected version and writes nothing', async () => {
      const store = await makeStore();
      const id = stream();
      await store.appendToStream(id, 0, [newEvent('A'), newEvent('B')]);
      await expect(store.appendToStream(id, 1, [newEvent('X'), newEvent('Y')])).rejects.toBeInstanceOf(VersionConflictError);
      await expect(store.appendToStream(id, 0, [newEvent('X')])).rejects.toBeInstanceOf(VersionConflictError);
      expect((await store.readStream(id)).map((e) => e.type)).toEqual(['A', 'B']);
    });

    it('a batch that collides on any of its versions lands not at all', async () => {
      const store = await makeStore();
      const id = stream();
      await store.appendToStream(id, 0, [newEvent('A')]);
      // Expected 0 collides on version 1 only; versions 2 and 3 must not appear either.
      await expect(store.appendToStream(id, 0, [newEvent('X'), newEvent('Y'), newEvent('Z')])).rejects.toBeInstanceOf(VersionConflictError);
      expect((await store.readStream(id)).map((e) => e.type)).toEqual(['A']);
    });

    it('reads after a version and with a limit', async () => {
      const store = await makeStore();
      const id = stream();
      await store.appendToStream(id, 0, ['A', 'B', 'C', 'D', 'E'].map((t) => newEvent(t)));
      expect((await store.readStream(id, { afterVersion: 2 })).map((e) => e.version)).toEqual([3, 4, 5]);
      expect((await store.readStream(id, { afterVersion: 1, limit: 2 })).map((e) => e.version)).toEqual([2, 3]);
      expect(await store.readStream(id, { afterVersion: 5 })).toEqual([]);
    });

    it('keeps streams apart', async () => {
      const store = await makeStore();
      const [a, b] = [stream(), stream()];
      await store.appendToStream(a, 0, [newEvent('A1')]);
      await store.appendToStream(b, 0, [newEvent('B1'), newEvent('B2')]);
      expect((await store.readStream(a)).map((e) => e.type)).toEqual(['A1']);
      expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B1', 'B2']);
    });

    it('race: 50 concurrent appends at the same expected version — exactly one wins, no gaps', async () => {
      const store = await makeStore();
      const id = stream();
      await store.appendToStream(id, 0, [newEvent('Start')]);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => store.appendToStream(id, 1, [newEvent(`Writer${i}`), newEvent(`Writer${i}-second`)])),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(49);
      for (const loser of losers) expect(loser.reason).toBeInstanceOf(VersionConflictError);
      const events = await store.readStream(id);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3]);
      const writer = events[1]!.type;
      expect(events[2]!.type).toBe(`${writer}-second`);
    });
  });
}
