/** In-memory read model for unit tests. Same ordering (newest first) as the DynamoDB one. */
import type { RecordingView } from '../recording/view.ts';
import { decodeCursor, encodeCursor, matchesMetadata, ProjectionConflictError, type ListPage, type ListQuery, type RecordingReadModel } from './port.ts';

export class InMemoryRecordingReadModel implements RecordingReadModel {
  private readonly items = new Map<string, RecordingView>();

  async get(tenantId: string, recordingId: string): Promise<RecordingView | null> {
    const view = this.items.get(recordingId);
    return view && view.tenant_id === tenantId ? structuredClone(view) : null;
  }

  async put(view: RecordingView, expectedVersion: number | null): Promise<void> {
    const current = this.items.get(view.id);
    if ((current?.version ?? null) !== expectedVersion) throw new ProjectionConflictError(view.id);
    this.items.set(view.id, structuredClone(view));
  }

  async list(tenantId: string, query: ListQuery): Promise<ListPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const all = [...this.items.values()]
      .filter((v) => v.tenant_id === tenantId)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .filter((v) => after === undefined || v.id < after)
      .filter((v) => (query.status === undefined || v.status === query.status) && matchesMetadata(v, query.metadata));
    const items = all.slice(0, query.limit);
    const last = items.at(-1);
    return { items: structuredClone(items), nextCursor: all.length > query.limit && last ? encodeCursor(last.id) : null };
  }

  snapshot(): RecordingView[] {
    return structuredClone([...this.items.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
  }
}
