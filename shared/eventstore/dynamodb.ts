/**
 * DynamoDB event store adapter. One item per event, key `(stream_id, version)`.
 *
 * A single event is a conditional `PutItem`; several are one `TransactWriteItems`, every
 * item conditional on its version not existing, so a batch lands whole or not at all.
 * Vendor errors are translated here: a failed condition (or a concurrent transaction on the
 * same key) is a `VersionConflictError`; everything else is re-thrown untouched.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  StoredEventSchema,
  VersionConflictError,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadOptions,
  type StoredEvent,
} from './port.ts';

/** DynamoDB's limit on items in one transaction. */
export const MAX_EVENTS_PER_APPEND = 100;
const NOT_EXISTS = 'attribute_not_exists(#version)';

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readStream(streamId: string, options: ReadOptions = {}): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'stream_id = :s AND #version > :after',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':s': streamId, ':after': options.afterVersion ?? 0 },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          Limit: options.limit === undefined ? undefined : options.limit - events.length,
        }),
      );
      for (const item of page.Items ?? []) events.push(StoredEventSchema.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (options.limit === undefined || events.length < options.limit));
    return events;
  }

  async appendToStream(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    if (events.length === 0) return { nextExpectedVersion: expectedVersion };
    if (events.length > MAX_EVENTS_PER_APPEND) {
      throw new RangeError(`at most ${MAX_EVENTS_PER_APPEND} events per append (got ${events.length})`);
    }
    const items = events.map((event, i) => ({ ...event, stream_id: streamId, version: expectedVersion + i + 1 }));
    try {
      if (items.length === 1) {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: items[0],
            ConditionExpression: NOT_EXISTS,
            ExpressionAttributeNames: { '#version': 'version' },
          }),
        );
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: items.map((Item) => ({
              Put: {
                TableName: this.tableName,
                Item,
                ConditionExpression: NOT_EXISTS,
                ExpressionAttributeNames: { '#version': 'version' },
              },
            })),
          }),
        );
      }
    } catch (error) {
      if (isVersionConflict(error)) throw new VersionConflictError(streamId, expectedVersion, { cause: error });
      throw error;
    }
    return { nextExpectedVersion: expectedVersion + items.length };
  }

  /** Every event of every stream, each stream in version order (a full table scan). */
  async *readAll(): AsyncIterable<StoredEvent> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) yield StoredEventSchema.parse(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
}

function isVersionConflict(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (error instanceof TransactionCanceledException) {
    // Cancelled because a condition failed, or because another transaction held the key.
    return (error.CancellationReasons ?? []).some(
      (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
    );
  }
  return error instanceof Error && error.name === 'TransactionConflictException';
}
