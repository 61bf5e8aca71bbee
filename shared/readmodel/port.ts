/** The recordings read model: one item per recording, written only by the projection. */
import type { RecordingStatus } from '../recording/model.ts';
import type { RecordingView } from '../recording/view.ts';
import { opaqueCursor } from '../cursor.ts';

export interface ListQuery {
  readonly limit: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
  readonly status?: RecordingStatus;
  /** `metadata.<key>=<value>` filters; values compare as strings, numbers or booleans. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ListPage {
  readonly items: RecordingView[];
  readonly nextCursor: string | null;
}

export interface RecordingReadModel {
  get(tenantId: string, recordingId: string): Promise<RecordingView | null>;
  /**
   * Store `view` if the stored item is still at `expectedVersion` (null: no item yet);
   * otherwise throw `ProjectionConflictError`.
   */
  put(view: RecordingView, expectedVersion: number | null): Promise<void>;
  list(tenantId: string, query: ListQuery): Promise<ListPage>;
}

export class ProjectionConflictError extends Error {
  constructor(readonly recordingId: string, options?: ErrorOptions) {
    super(`read model item ${recordingId} changed under the projection`, options);
    this.name = 'ProjectionConflictError';
  }
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

const recordingCursor = opaqueCursor('r');

/** Cursors carry only the last recording id; the tenant always comes from the caller. */
export const encodeCursor = recordingCursor.encode;

export function decodeCursor(cursor: string): string {
  const recordingId = recordingCursor.decode(cursor);
  if (recordingId === null) throw new InvalidCursorError();
  return recordingId;
}

/** The metadata filter the DynamoDB adapter expresses in a FilterExpression, as a predicate. */
export function matchesMetadata(view: RecordingView, filters: Readonly<Record<string, string>> = {}): boolean {
  return Object.entries(filters).every(([key, expected]) => {
    const actual = view.metadata[key];
    return actual !== undefined && actual !== null && String(actual) === expected;
  });
}
