/** The feed in DynamoDB: `(tenant_id, event_id)`, TTL `expires_at`; a Query per page. */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IntegrationEventSchema, type IntegrationEvent } from '../integration/integration-event.ts';
import { encodeFeedCursor, FEED_RETENTION_DAYS, type EventFeed, type FeedPage } from './port.ts';

export class DynamoDbEventFeed implements EventFeed {
  constructor(private readonly docs: DynamoDBDocumentClient, private readonly table: string) {}

  async append(events: readonly IntegrationEvent[]): Promise<void> {
    for (const event of events) {
      // A retried publish writes the same item again: same key, same content.
      await this.docs.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            tenant_id: event.tenant_id,
            event_id: event.id,
            occurred_at: event.occurred_at,
            event: JSON.stringify(event),
            expires_at: Math.floor(Date.parse(event.occurred_at) / 1000) + FEED_RETENTION_DAYS * 86_400,
          },
        }),
      );
    }
  }

  async read(tenantId: string, after: string | null, limit: number, settledBefore: string): Promise<FeedPage> {
    const items: IntegrationEvent[] = [];
    let start: Record<string, unknown> | undefined = after === null ? undefined : { tenant_id: tenantId, event_id: after };
    let settledEnd = false;
    while (items.length < limit && !settledEnd) {
      const page = await this.docs.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'tenant_id = :t',
          ExpressionAttributeValues: { ':t': tenantId },
          ExclusiveStartKey: start,
          Limit: limit - items.length,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const event = IntegrationEventSchema.parse(JSON.parse(String(item['event'])));
        if (event.occurred_at >= settledBefore) {
          settledEnd = true;
          break;
        }
        items.push(event);
      }
      if (page.LastEvaluatedKey === undefined) break;
      start = page.LastEvaluatedKey;
    }
    const last = items.at(-1);
    return { items, next_cursor: last ? encodeFeedCursor(last.id) : after === null ? null : encodeFeedCursor(after) };
  }
}
