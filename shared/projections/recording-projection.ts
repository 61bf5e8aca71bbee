/**
 * Keeps the recordings read model in step with the event store. Idempotent: an event at or
 * below the stored version changes nothing. A gap (a record lost or out of order) is closed
 * by reading the missing events from the store, so the read model never skips a version.
 */
import type { EventStore, StoredEvent } from '../eventstore/port.ts';
import { ProjectionConflictError, type RecordingReadModel } from '../readmodel/port.ts';
import { projectRecording, type RecordingView } from '../recording/view.ts';

export type ProjectionOutcome = 'applied' | 'duplicate' | 'caught_up';

export interface ProjectionResult {
  readonly outcome: ProjectionOutcome;
  readonly view: RecordingView | null;
}

const MAX_ATTEMPTS = 5;

/**
 * Views this projector wrote or read last, so the next event of a recording needs no read.
 * Safe with several projectors: a cached version is never ahead of the table (the table only
 * grows), and every write is conditional on the version, so a stale entry costs one conflict,
 * after which it is dropped and the table read.
 */
class ViewCache {
  private readonly views = new Map<string, RecordingView>();
  constructor(private readonly capacity: number) {}
  get(id: string): RecordingView | undefined {
    const view = this.views.get(id);
    if (view !== undefined) {
      this.views.delete(id);
      this.views.set(id, view);
    }
    return view;
  }
  set(view: RecordingView): void {
    this.views.delete(view.id);
    this.views.set(view.id, view);
    if (this.views.size > this.capacity) this.views.delete(this.views.keys().next().value as string);
  }
  delete(id: string): void {
    this.views.delete(id);
  }
}

export function recordingProjection(deps: { readModel: RecordingReadModel; store: EventStore; cacheSize?: number }) {
  const cache = new ViewCache(deps.cacheSize ?? 10_000);

  async function applyOnce(event: StoredEvent): Promise<ProjectionResult> {
    const current = cache.get(event.stream_id) ?? (await deps.readModel.get(event.tenant_id, event.stream_id));
    const currentVersion = current?.version ?? 0;
    if (event.version <= currentVersion) return { outcome: 'duplicate', view: current };
    let next: RecordingView | null;
    let outcome: ProjectionOutcome = 'applied';
    if (event.version === currentVersion + 1) {
      next = projectRecording(current, event);
    } else {
      const missing = await deps.store.readStream(event.stream_id, { afterVersion: currentVersion, limit: event.version - currentVersion });
      next = missing.reduce(projectRecording, current);
      outcome = 'caught_up';
    }
    if (next === null || next === current) return { outcome: 'duplicate', view: current };
    await deps.readModel.put(next, current?.version ?? null);
    cache.set(next);
    return { outcome, view: next };
  }

  return {
    async apply(event: StoredEvent): Promise<ProjectionResult> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await applyOnce(event);
        } catch (error) {
          // Another projector moved the item first: forget what we knew, re-read, decide again.
          cache.delete(event.stream_id);
          if (!(error instanceof ProjectionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
        }
      }
    },
  };
}

export type RecordingProjection = ReturnType<typeof recordingProjection>;

/** Rebuild the read model from every stream in the store, oldest event first per stream. */
export async function rebuildRecordings(
  source: AsyncIterable<StoredEvent>,
  projection: RecordingProjection,
): Promise<{ streams: number; events: number }> {
  const byStream = new Map<string, StoredEvent[]>();
  for await (const event of source) {
    const list = byStream.get(event.stream_id) ?? [];
    list.push(event);
    byStream.set(event.stream_id, list);
  }
  let events = 0;
  for (const stream of byStream.values()) {
    stream.sort((a, b) => a.version - b.version);
    for (const event of stream) {
      await projection.apply(event);
      events++;
    }
  }
  return { streams: byStream.size, events };
}
