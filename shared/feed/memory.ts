/** In-memory feed for unit tests. */
import type { IntegrationEvent } from '../integration/integration-event.ts';
import { encodeFeedCursor, type EventFeed, type FeedPage } from './port.ts';

export class InMemoryEventFeed implements EventFeed {
  private readonly byTenant = new Map<string, Map<string, IntegrationEvent>>();

  async append(events: readonly IntegrationEvent[]): Promise<void> {
    for (const event of events) {
      const tenant = this.byTenant.get(event.tenant_id) ?? new Map<string, IntegrationEvent>();
      tenant.set(event.id, event);
      this.byTenant.set(event.tenant_id, tenant);
    }
  }

  async read(tenantId: string, after: string | null, limit: number, settledBefore: string): Promise<FeedPage> {
    const all = [...(this.byTenant.get(tenantId)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const newer = all.filter((e) => after === null || e.id > after);
    const settled: IntegrationEvent[] = [];
    for (const event of newer) {
      if (event.occurred_at >= settledBefore) break;
      settled.push(event);
    }
    const items = settled.slice(0, limit);
    const last = items.at(-1);
    return { items, next_cursor: last ? encodeFeedCursor(last.id) : after === null ? null : encodeFeedCursor(after) };
  }
}
