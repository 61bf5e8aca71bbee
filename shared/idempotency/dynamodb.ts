/**
 * DynamoDB idempotency store: a conditional put claims the key; TTL (`expires_at`, epoch
 * seconds) reaps old keys, and the condition treats an expired, not-yet-reaped key as free.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IDEMPOTENCY_TTL_SECONDS, type ClaimResult, type IdempotencyRecord, type IdempotencyStore } from './port.ts';

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(scopeKey: string, record: IdempotencyRecord, nowMs: number): Promise<ClaimResult> {
    const nowSeconds = Math.floor(nowMs / 1000);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { idempotency_key: scopeKey, ...record, expires_at: nowSeconds + IDEMPOTENCY_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(idempotency_key) OR expires_at <= :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { idempotency_key: scopeKey }, ConsistentRead: true }),
    );
    const item = existing.Item as (IdempotencyRecord & { expires_at: number }) | undefined;
    if (item === undefined) return this.claim(scopeKey, record, nowMs); // reaped between the two calls
    return { claimed: false, existing: { request_hash: item.request_hash, recording_id: item.recording_id } };
  }
}
