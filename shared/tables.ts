/**
 * DynamoDB table shapes, shared by the CDK constructs and the local runtime's bootstrap,
 * so the tables the tests run against are the tables the cloud gets.
 */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface TableShape {
  /** Logical name; the physical name comes from config (`CAPSTAN_*_TABLE`). */
  readonly logicalName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** NEW_IMAGE stream feeds the publisher (projections + integration events). */
  readonly stream?: 'NEW_IMAGE';
  readonly timeToLiveAttribute?: string;
}

/** Append-only event store: one item per event, `(stream_id, version)`. */
export const EVENTS_TABLE: TableShape = {
  logicalName: 'events',
  partitionKey: { name: 'stream_id', type: 'S' },
  sortKey: { name: 'version', type: 'N' },
  stream: 'NEW_IMAGE',
};

/** Read model: one item per recording, partitioned by tenant for isolation and listing. */
export const RECORDINGS_TABLE: TableShape = {
  logicalName: 'recordings',
  partitionKey: { name: 'tenant_id', type: 'S' },
  sortKey: { name: 'recording_id', type: 'S' },
};

/** API keys, stored as SHA-256 hashes of the bearer token. */
export const API_KEYS_TABLE: TableShape = {
  logicalName: 'api_keys',
  partitionKey: { name: 'key_hash', type: 'S' },
};

/** Idempotency keys of create requests: `tenant#key` → request hash and recording id, 24 h. */
export const IDEMPOTENCY_TABLE: TableShape = {
  logicalName: 'idempotency',
  partitionKey: { name: 'idempotency_key', type: 'S' },
  timeToLiveAttribute: 'expires_at',
};

/**
 * The tenant's integration-event feed (`GET /v1/events`): written by the publisher, one item
 * per integration event, ordered by event id (a ULID) within the tenant; kept 30 days.
 */
export const FEED_TABLE: TableShape = {
  logicalName: 'feed',
  partitionKey: { name: 'tenant_id', type: 'S' },
  sortKey: { name: 'event_id', type: 'S' },
  timeToLiveAttribute: 'expires_at',
};

/** Webhook endpoints per tenant, and the tenant's signing secret for per-recording `webhook_url`s. */
export const WEBHOOKS_TABLE: TableShape = {
  logicalName: 'webhooks',
  partitionKey: { name: 'tenant_id', type: 'S' },
  sortKey: { name: 'webhook_id', type: 'S' },
};

/**
 * Webhook deliveries: one item per (target, integration event), `target_key` =
 * `tenant#wh_…` for a subscription or `tenant#recording:rec_…` for a recording's own
 * `webhook_url`; `event_id` (a ULID) orders the delivery log by time. Kept 30 days, like
 * the feed they can be replayed from.
 */
export const DELIVERIES_TABLE: TableShape = {
  logicalName: 'deliveries',
  partitionKey: { name: 'target_key', type: 'S' },
  sortKey: { name: 'event_id', type: 'S' },
  timeToLiveAttribute: 'expires_at',
};

export const TABLES = [EVENTS_TABLE, RECORDINGS_TABLE, API_KEYS_TABLE, IDEMPOTENCY_TABLE, FEED_TABLE, WEBHOOKS_TABLE, DELIVERIES_TABLE] as const;
