/** Webhook endpoints in DynamoDB: `(tenant_id, webhook_id)`; the signing secret is one more item. */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SIGNING_SECRET_ITEM, WebhookEndpointSchema, WebhookSecretSchema, type WebhookEndpoint, type WebhookSecret } from './model.ts';

export interface WebhookEndpointStore {
  put(endpoint: WebhookEndpoint): Promise<void>;
  get(tenantId: string, webhookId: string): Promise<WebhookEndpoint | null>;
  list(tenantId: string): Promise<WebhookEndpoint[]>;
  delete(tenantId: string, webhookId: string): Promise<boolean>;
  /** The tenant's signing secrets, created by `create` the first time (conditional, so concurrent callers agree). */
  signingSecrets(tenantId: string, create: () => WebhookSecret): Promise<WebhookSecret[]>;
}

export class DynamoDbWebhookEndpointStore implements WebhookEndpointStore {
  constructor(private readonly docs: DynamoDBDocumentClient, private readonly table: string) {}

  async put(endpoint: WebhookEndpoint): Promise<void> {
    await this.docs.send(new PutCommand({ TableName: this.table, Item: endpoint }));
  }

  async get(tenantId: string, webhookId: string): Promise<WebhookEndpoint | null> {
    const { Item } = await this.docs.send(new GetCommand({ TableName: this.table, Key: { tenant_id: tenantId, webhook_id: webhookId }, ConsistentRead: true }));
    return Item === undefined || webhookId === SIGNING_SECRET_ITEM ? null : WebhookEndpointSchema.parse(Item);
  }

  async list(tenantId: string): Promise<WebhookEndpoint[]> {
    const items: WebhookEndpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.docs.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'tenant_id = :t', ExpressionAttributeValues: { ':t': tenantId }, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) if (item['webhook_id'] !== SIGNING_SECRET_ITEM) items.push(WebhookEndpointSchema.parse(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  async delete(tenantId: string, webhookId: string): Promise<boolean> {
    const { Attributes } = await this.docs.send(new DeleteCommand({ TableName: this.table, Key: { tenant_id: tenantId, webhook_id: webhookId }, ReturnValues: 'ALL_OLD' }));
    return Attributes !== undefined;
  }

  async signingSecrets(tenantId: string, create: () => WebhookSecret): Promise<WebhookSecret[]> {
    const key = { tenant_id: tenantId, webhook_id: SIGNING_SECRET_ITEM };
    const existing = await this.docs.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    if (existing.Item !== undefined) return WebhookSecretSchema.array().parse(existing.Item['secrets']);
    try {
      await this.docs.send(new PutCommand({ TableName: this.table, Item: { ...key, secrets: [create()] }, ConditionExpression: 'attribute_not_exists(webhook_id)' }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
    return this.signingSecrets(tenantId, create);
  }
}
