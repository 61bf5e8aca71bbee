/**
 * Deliveries in DynamoDB: `(target_key, event_id)`. Every state change is a conditional
 * write, so duplicate queue messages, a replay racing a retry, or two dispatchers taking
 * the same attempt resolve to one attempt: whoever loses the condition does nothing.
 */
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeliverySchema, targetKey, type Delivery, type DeliveryAttempt, type DeliveryStatus } from './model.ts';

export interface DeliveryKey {
  readonly tenant_id: string;
  readonly target: string;
  readonly event_id: string;
}

export interface ClaimRequest {
  readonly attempt: number;
  readonly round: number;
  readonly now: string;
  /** Until when this attempt holds the delivery; after that another may take it over. */
  readonly leaseUntil: string;
}

export interface FinishRequest {
  readonly attempt: number;
  readonly round: number;
  readonly status: DeliveryStatus;
  readonly log: DeliveryAttempt;
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
  readonly now: string;
}

/** Where a scan stopped (the store's own key). */
export type ScanPosition = Record<string, unknown>;

export interface ListOptions {
  readonly limit: number;
  readonly before?: string | undefined;
  readonly status?: DeliveryStatus | undefined;
  readonly event_type?: string | undefined;
}

/** Most items one filtered page examines before it answers with what it has (and a `next`). */
const FILTERED_READ_BUDGET = 1000;

export interface DeliveryPage {
  readonly items: Delivery[];
  /** The last event id of this page; pass back as `before` (newest first). */
  readonly next: string | null;
}

export interface DeliveryStore {
  /** Stores a new delivery; false when one already exists for the target and event. */
  create(delivery: Delivery): Promise<boolean>;
  /**
   * `create` for many at once (the fan-out of a batch), in as few writes as the store allows:
   * for each, whether it was new.
   */
  createMany(deliveries: readonly Delivery[]): Promise<boolean[]>;
  /**
   * Writes the results of first attempts made by whoever created the deliveries (still
   * holding their lease), in as few writes as the store allows.
   */
  putMany(deliveries: readonly Delivery[]): Promise<void>;
  get(key: DeliveryKey): Promise<Delivery | null>;
  /**
   * Takes attempt `attempt` of round `round`: the delivery must be pending in that round with
   * `attempt − 1` attempts made, or hold this same attempt with a lapsed lease (a lost
   * attempt). Null when someone else has it or it has moved on.
   */
  claim(key: DeliveryKey, request: ClaimRequest): Promise<Delivery | null>;
  /** Records the attempt's result; false when the attempt was taken over meanwhile. */
  finish(key: DeliveryKey, request: FinishRequest): Promise<boolean>;
  /** A new round with a fresh retry budget (replay); null when there is no such delivery. */
  startRound(key: DeliveryKey, now: string): Promise<Delivery | null>;
  /**
   * The target's deliveries, newest first, optionally only those with the given status or
   * event type. A filtered page may hold fewer than
   * `limit` items (even none) and still have a `next`.
   */
  list(tenantId: string, target: string, options: ListOptions): Promise<DeliveryPage>;
  /**
   * Every pending delivery of every tenant, a page at a time (`next` of the last page).
   * A full table scan: for recovery at startup, not for request paths.
   */
  scanPending(next?: ScanPosition): Promise<{ items: Delivery[]; next: ScanPosition | null }>;
}

export class DynamoDbDeliveryStore implements DeliveryStore {
  constructor(private readonly docs: DynamoDBDocumentClient, private readonly table: string) {}

  private key(key: DeliveryKey) {
    return { target_key: targetKey(key.tenant_id, key.target), event_id: key.event_id };
  }

  async create(delivery: Delivery): Promise<boolean> {
    try {
      await this.docs.send(new PutCommand({ TableName: this.table, Item: delivery, ConditionExpression: 'attribute_not_exists(event_id)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** One transaction per 100 (every item conditional on being new); items that exist are retried alone. */
  async createMany(deliveries: readonly Delivery[]): Promise<boolean[]> {
    const created: boolean[] = [];
    for (let i = 0; i < deliveries.length; i += 100) created.push(...(await this.createChunk(deliveries.slice(i, i + 100))));
    return created;
  }

  private async createChunk(chunk: readonly Delivery[]): Promise<boolean[]> {
    if (chunk.length === 1) return [await this.create(chunk[0]!)];
    try {
      await this.docs.send(
        new TransactWriteCommand({ TransactItems: chunk.map((Item) => ({ Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(event_id)' } })) }),
      );
      return chunk.map(() => true);
    } catch (error) {
      const reasons = (error as { name?: string; CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((error as { name?: string }).name !== 'TransactionCanceledException' || reasons === undefined) throw error;
      // Nothing was written: the ones that exist are not new, the rest go again (one by one if contended).
      const exists = chunk.map((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed');
      if (!exists.some(Boolean)) return Promise.all(chunk.map((d) => this.create(d)));
      const rest = chunk.filter((_, i) => !exists[i]);
      const restCreated = rest.length === 0 ? [] : await this.createChunk(rest);
      let next = 0;
      return exists.map((e) => (e ? false : restCreated[next++]!));
    }
  }

  async putMany(deliveries: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < deliveries.length; i += 25) {
      let requests: { PutRequest: { Item: Record<string, unknown> } }[] = deliveries.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const { UnprocessedItems } = await this.docs.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        requests = (UnprocessedItems?.[this.table] ?? []) as typeof requests;
        if (attempt > 8 && requests.length > 0) throw new Error(`${requests.length} delivery results stayed unprocessed`);
      }
    }
  }

  async get(key: DeliveryKey): Promise<Delivery | null> {
    const { Item } = await this.docs.send(new GetCommand({ TableName: this.table, Key: this.key(key), ConsistentRead: true }));
    return Item === undefined ? null : DeliverySchema.parse(Item);
  }

  async claim(key: DeliveryKey, request: ClaimRequest): Promise<Delivery | null> {
    try {
      const { Attributes } = await this.docs.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: 'SET attempt_count = :n, in_flight_until = :lease, updated_at = :now',
          ConditionExpression: '#status = :pending AND #round = :round AND (attempt_count = :prev OR (attempt_count = :n AND in_flight_until < :now))',
          ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
          ExpressionAttributeValues: { ':n': request.attempt, ':prev': request.attempt - 1, ':lease': request.leaseUntil, ':now': request.now, ':pending': 'pending', ':round': request.round },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return DeliverySchema.parse(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async finish(key: DeliveryKey, request: FinishRequest): Promise<boolean> {
    try {
      await this.docs.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression:
            'SET #status = :status, in_flight_until = :null, next_attempt_at = :next, last_error = :error, attempts = list_append(attempts, :log), updated_at = :now',
          ConditionExpression: 'attempt_count = :n AND #round = :round',
          ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
          ExpressionAttributeValues: {
            ':status': request.status,
            ':null': null,
            ':next': request.nextAttemptAt,
            ':error': request.lastError,
            ':log': [request.log],
            ':now': request.now,
            ':n': request.attempt,
            ':round': request.round,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async startRound(key: DeliveryKey, now: string): Promise<Delivery | null> {
    try {
      const { Attributes } = await this.docs.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: 'SET #round = #round + :one, attempt_count = :zero, #status = :pending, in_flight_until = :null, next_attempt_at = :now, updated_at = :now',
          ConditionExpression: 'attribute_exists(event_id)',
          ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
          ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':pending': 'pending', ':null': null, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return DeliverySchema.parse(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async list(tenantId: string, target: string, options: ListOptions): Promise<DeliveryPage> {
    const values: Record<string, unknown> = { ':k': targetKey(tenantId, target) };
    const filters: string[] = [];
    const names: Record<string, string> = {};
    if (options.status !== undefined) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = options.status;
    }
    if (options.event_type !== undefined) {
      filters.push('event_type = :type');
      values[':type'] = options.event_type;
    }
    const filtered = filters.length > 0;
    const items: Delivery[] = [];
    let start: Record<string, unknown> | undefined = options.before === undefined ? undefined : { target_key: targetKey(tenantId, target), event_id: options.before };
    let examined = 0;
    // DynamoDB applies Limit before the filter: keep reading until the page is full, the target
    // has no more, or the read budget is spent.
    for (;;) {
      const { Items, LastEvaluatedKey, ScannedCount } = await this.docs.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'target_key = :k',
          ...(filtered ? { FilterExpression: filters.join(' AND ') } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: filtered ? Math.max(4 * options.limit, 100) : options.limit,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      examined += ScannedCount ?? 0;
      for (const item of Items ?? []) {
        if (items.length === options.limit) return { items, next: items.at(-1)!.event_id };
        items.push(DeliverySchema.parse(item));
      }
      if (LastEvaluatedKey === undefined) return { items, next: null };
      if (items.length === options.limit) return { items, next: items.at(-1)!.event_id };
      if (examined >= FILTERED_READ_BUDGET) return { items, next: LastEvaluatedKey['event_id'] as string };
      start = LastEvaluatedKey;
    }
  }

  async scanPending(next?: ScanPosition): Promise<{ items: Delivery[]; next: ScanPosition | null }> {
    const { Items, LastEvaluatedKey } = await this.docs.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending' },
        ExclusiveStartKey: next,
        ConsistentRead: true,
      }),
    );
    return { items: (Items ?? []).map((item) => DeliverySchema.parse(item)), next: LastEvaluatedKey ?? null };
  }
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}
