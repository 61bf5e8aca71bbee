/**
 * The event store port: append-only streams of events keyed by `(stream_id, version)`.
 * Versions start at 1 and have no gaps. The port owns its errors; adapters translate
 * vendor errors at their boundary.
 */
import { z } from 'zod';

export const StoredEventSchema = z.object({
  stream_id: z.string().min(1),
  version: z.number().int().positive(),
  event_id: z.string().min(1),
  type: z.string().min(1),
  schema_version: z.number().int().positive(),
  occurred_at: z.string(),
  tenant_id: z.string().min(1),
  correlation_id: z.string().nullable(),
  causation_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type StoredEvent = z.infer<typeof StoredEventSchema>;

/** What a writer hands in: the store assigns `stream_id` and `version`. */
export type NewEvent = Omit<StoredEvent, 'stream_id' | 'version'>;

export interface ReadOptions {
  /** Return events with `version > afterVersion`. */
  readonly afterVersion?: number;
  readonly limit?: number;
}

export interface AppendResult {
  /** The version of the last event now in the stream. */
  readonly nextExpectedVersion: number;
}

export interface EventStore {
  readStream(streamId: string, options?: ReadOptions): Promise<StoredEvent[]>;
  /**
   * Append all `events` atomically if the stream's current version is `expectedVersion`
   * (0 for a new stream); otherwise throw `VersionConflictError` and write nothing.
   */
  appendToStream(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult>;
}

export class VersionConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    options?: ErrorOptions,
  ) {
    super(`stream ${streamId} is past version ${expectedVersion}`, options);
    this.name = 'VersionConflictError';
  }
}

export class EventStoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}
