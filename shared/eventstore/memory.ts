/** In-memory event store: for unit tests and the contract suite's reference run. */
import { VersionConflictError, type AppendResult, type EventStore, type NewEvent, type ReadOptions, type StoredEvent } from './port.ts';

export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, StoredEvent[]>();

  async readStream(streamId: string, options: ReadOptions = {}): Promise<StoredEvent[]> {
    const after = options.afterVersion ?? 0;
    const events = (this.streams.get(streamId) ?? []).filter((e) => e.version > after);
    return structuredClone(options.limit === undefined ? events : events.slice(0, options.limit));
  }

  async appendToStream(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    const stream = this.streams.get(streamId) ?? [];
    if (stream.length !== expectedVersion) throw new VersionConflictError(streamId, expectedVersion);
    const stored = events.map((e, i) => ({ ...structuredClone(e), stream_id: streamId, version: expectedVersion + i + 1 }));
    this.streams.set(streamId, [...stream, ...stored]);
    return { nextExpectedVersion: expectedVersion + events.length };
  }

  /** Every stream, for rebuilding projections in tests. */
  async *readAll(): AsyncIterable<StoredEvent> {
    for (const stream of this.streams.values()) yield* structuredClone(stream);
  }
}
