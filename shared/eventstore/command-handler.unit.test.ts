import { describe, expect, it } from 'vitest';
import { fixedClock, sequentialIds } from '../clock.ts';
import { CommandRetriesExhaustedError, commandHandler, type Decider, type EventCodec } from './command-handler.ts';
import { InMemoryEventStore } from './memory.ts';
import { VersionConflictError, type AppendResult, type EventStore, type NewEvent, type ReadOptions, type StoredEvent } from './port.ts';

// A tiny counter aggregate: enough to see what the handler reads, decides and appends.
type Command = { type: 'Add'; amount: number; at: string };
type Event = { type: 'Added'; amount: number; total: number; at: string };
type State = { total: number; adds: number };

const counter: Decider<Command, Event, State> = {
  initialState: () => ({ total: 0, adds: 0 }),
  evolve: (state, event) => ({ total: event.total, adds: state.adds + 1 }),
  decide: (command, state) =>
    command.amount === 0 ? [] : [{ type: 'Added', amount: command.amount, total: state.total + command.amount, at: command.at }],
};

const codec: EventCodec<Event> = {
  encode: (e) => ({ type: e.type, schema_version: 1, data: { amount: e.amount, total: e.total, at: e.at } }),
  decode: (s) => {
    const d = s.data as { amount: number; total: number; at: string };
    return { type: 'Added', amount: d.amount, total: d.total, at: d.at };
  },
};

const START = '2026-05-01T08:00:00.000Z';
const add = (amount: number) => (now: string): Command => ({ type: 'Add', amount, at: now });

function otherWriterEvent(total: number): NewEvent {
  return {
    event_id: 'evt_other',
    type: 'Added',
    schema_version: 1,
    occurred_at: START,
    tenant_id: 'tenant-a',
    correlation_id: null,
    causation_id: null,
    data: { amount: total, total, at: START },
  };
}

/** Wraps a store, counting calls and letting a test intercept each append. */
class SpyStore implements EventStore {
  appends = 0;
  reads = 0;
  constructor(
    readonly inner: InMemoryEventStore,
    private readonly onAppend: (attempt: number, streamId: string, expected: number, events: readonly NewEvent[]) => Promise<void> = async () => {},
  ) {}
  readStream(streamId: string, options?: ReadOptions): Promise<StoredEvent[]> {
    this.reads++;
    return this.inner.readStream(streamId, options);
  }
  async appendToStream(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    this.appends++;
    await this.onAppend(this.appends, streamId, expectedVersion, events);
    return this.inner.appendToStream(streamId, expectedVersion, events);
  }
}

function setup(onAppend?: ConstructorParameters<typeof SpyStore>[1], maxAttempts?: number) {
  const store = new SpyStore(new InMemoryEventStore(), onAppend);
  const clock = fixedClock(START);
  const handler = commandHandler(counter, codec, { store, clock, ids: sequentialIds(), ...(maxAttempts === undefined ? {} : { maxAttempts }) });
  return { store, clock, handler };
}

describe('commandHandler', () => {
  it('appends the decided events with injected ids, time, tenant and correlation', async () => {
    const { store, handler } = setup();
    const result = await handler.handle('counter-1', add(5), { tenantId: 'tenant-a', correlationId: 'req-1', causationId: 'evt_cause' });

    const expected: StoredEvent = {
      stream_id: 'counter-1',
      version: 1,
      event_id: 'evt_000001',
      type: 'Added',
      schema_version: 1,
      occurred_at: START,
      tenant_id: 'tenant-a',
      correlation_id: 'req-1',
      causation_id: 'evt_cause',
      data: { amount: 5, total: 5, at: START },
    };
    expect(await store.inner.readStream('counter-1')).toEqual([expected]);
    expect(result).toEqual({ state: { total: 5, adds: 1 }, events: [expected], appended: [expected], version: 1 });
  });

  it('decides on the folded stream and appends at its version, with null correlation/causation by default', async () => {
    const { store, clock, handler } = setup();
    await handler.handle('counter-1', add(2), { tenantId: 'tenant-a' });
    clock.advance(1000);
    const result = await handler.handle('counter-1', add(3), { tenantId: 'tenant-a' });

    expect(result.version).toBe(2);
    expect(result.state).toEqual({ total: 5, adds: 2 });
    expect(result.events.map((e) => e.version)).toEqual([1, 2]);
    expect(result.appended).toEqual([
      expect.objectContaining({
        version: 2,
        event_id: 'evt_000002',
        occurred_at: '2026-05-01T08:00:01.000Z',
        correlation_id: null,
        causation_id: null,
        data: { amount: 3, total: 5, at: '2026-05-01T08:00:01.000Z' },
      }),
    ]);
    expect(await store.inner.readStream('counter-1')).toEqual(result.events);
  });

  it('appends nothing for a no-op command and reports the current state', async () => {
    const { store, handler } = setup();
    await handler.handle('counter-1', add(4), { tenantId: 'tenant-a' });
    const before = await store.inner.readStream('counter-1');
    store.appends = 0;

    const result = await handler.handle('counter-1', add(0), { tenantId: 'tenant-a' });

    expect(store.appends).toBe(0);
    expect(result.appended).toEqual([]);
    expect(result.events).toEqual(before);
    expect(result.version).toBe(1);
    expect(result.state).toEqual({ total: 4, adds: 1 });
    expect(await store.inner.readStream('counter-1')).toEqual(before);
  });

  it('on a version conflict re-reads, decides again on the new state and succeeds', async () => {
    // Another writer lands an event between our read and our append: the real store refuses ours.
    const { store, handler } = setup(async (attempt, streamId) => {
      if (attempt === 1) await store.inner.appendToStream(streamId, 0, [otherWriterEvent(100)]);
    });
    const commandsMade: string[] = [];

    const result = await handler.handle(
      'counter-1',
      (now) => {
        commandsMade.push(now);
        return add(1)(now);
      },
      { tenantId: 'tenant-a' },
    );

    expect(store.appends).toBe(2);
    expect(commandsMade).toHaveLength(2);
    expect(result.version).toBe(2);
    expect(result.state).toEqual({ total: 101, adds: 2 });
    const stored = await store.inner.readStream('counter-1');
    expect(stored.map((e) => [e.version, e.event_id, e.data['total']])).toEqual([
      [1, 'evt_other', 100],
      [2, 'evt_000002', 101],
    ]);
    expect(result.events).toEqual(stored);
    expect(result.appended).toEqual([stored[1]]);
  });

  it('does not retry a non-conflict error: append is called once and the error propagates', async () => {
    const boom = new Error('boom');
    const { store, handler } = setup(async () => {
      throw boom;
    });

    await expect(handler.handle('counter-1', add(1), { tenantId: 'tenant-a' })).rejects.toBe(boom);
    expect(store.appends).toBe(1);
    expect(await store.inner.readStream('counter-1')).toEqual([]);
  });

  it('gives up with CommandRetriesExhaustedError after maxAttempts conflicts', async () => {
    const { store, handler } = setup(async (_attempt, streamId, expected) => {
      throw new VersionConflictError(streamId, expected);
    }, 3);

    const error = await handler.handle('counter-1', add(1), { tenantId: 'tenant-a' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CommandRetriesExhaustedError);
    expect(error).toMatchObject({ streamId: 'counter-1', attempts: 3 });
    expect((error as Error).cause).toBeInstanceOf(VersionConflictError);
    expect(store.appends).toBe(3);
  });

  it('defaults to 10 attempts', async () => {
    const { store, handler } = setup(async (_attempt, streamId, expected) => {
      throw new VersionConflictError(streamId, expected);
    });
    await expect(handler.handle('counter-1', add(1), { tenantId: 'tenant-a' })).rejects.toBeInstanceOf(CommandRetriesExhaustedError);
    expect(store.appends).toBe(10);
  });

  it('an authorize callback that refuses prevents any append', async () => {
    const { store, handler } = setup();
    await handler.handle('counter-1', add(7), { tenantId: 'tenant-a' });
    store.appends = 0;
    const refused = new Error('not yours');
    const seen: State[] = [];

    await expect(
      handler.handle('counter-1', add(1), { tenantId: 'tenant-b' }, (state) => {
        seen.push(state);
        throw refused;
      }),
    ).rejects.toBe(refused);

    expect(seen).toEqual([{ total: 7, adds: 1 }]);
    expect(store.appends).toBe(0);
    expect((await store.inner.readStream('counter-1')).map((e) => e.version)).toEqual([1]);
  });

  it('expectNew skips the first read, and falls back to read–decide–append when the stream exists', async () => {
    const { store, handler } = setup();
    await handler.handle('counter-1', add(10), { tenantId: 'tenant-a' });
    store.reads = 0;
    store.appends = 0;

    const fresh = await handler.handle('counter-2', add(1), { tenantId: 'tenant-a' }, undefined, { expectNew: true });
    expect(store.reads).toBe(0);
    expect(fresh.version).toBe(1);

    const existing = await handler.handle('counter-1', add(1), { tenantId: 'tenant-a' }, undefined, { expectNew: true });
    expect(store.appends).toBe(3); // counter-2, then counter-1 at 0 (conflict), then counter-1 at 1
    expect(store.reads).toBe(1);
    expect(existing.state).toEqual({ total: 11, adds: 2 });
    expect(existing.version).toBe(2);
  });

  it('load folds a stream into state and version', async () => {
    const { handler } = setup();
    await handler.handle('counter-1', add(1), { tenantId: 'tenant-a' });
    await handler.handle('counter-1', add(2), { tenantId: 'tenant-a' });
    const loaded = await handler.load('counter-1');
    expect(loaded.state).toEqual({ total: 3, adds: 2 });
    expect(loaded.version).toBe(2);
    expect(await handler.load('nothing-here')).toEqual({ state: { total: 0, adds: 0 }, version: 0, stored: [] });
  });
});
