/**
 * Bearer API keys. Keys are random 32-byte tokens, so a plain SHA-256 is the right hash at
 * rest (nothing to brute-force, and it lets us look the key up by its hash in one read).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export const newApiKey = (): string => `cap_${randomBytes(32).toString('base64url')}`;

export interface ApiKeyRecord {
  readonly key_hash: string;
  readonly tenant_id: string;
  readonly created_at: string;
}

export interface ApiKeyStore {
  find(keyHash: string): Promise<ApiKeyRecord | null>;
  put(record: ApiKeyRecord): Promise<void>;
}

export class InMemoryApiKeyStore implements ApiKeyStore {
  private readonly records = new Map<string, ApiKeyRecord>();
  async find(keyHash: string) {
    return this.records.get(keyHash) ?? null;
  }
  async put(record: ApiKeyRecord) {
    this.records.set(record.key_hash, record);
  }
}

export class DynamoDbApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}
  async find(keyHash: string): Promise<ApiKeyRecord | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { key_hash: keyHash } }));
    const item = result.Item as ApiKeyRecord | undefined;
    // Defence in depth: the stored hash must equal the looked-up one byte for byte.
    if (item === undefined || !timingSafeEqual(Buffer.from(item.key_hash), Buffer.from(keyHash))) return null;
    return item;
  }
  async put(record: ApiKeyRecord): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: record }));
  }
}

/** Resolves a bearer token to its tenant, caching hits (and misses briefly) per process. */
export function apiKeyAuthenticator(store: ApiKeyStore, options: { ttlMs?: number; missTtlMs?: number; nowMs?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 60_000;
  const missTtlMs = options.missTtlMs ?? 5_000;
  const nowMs = options.nowMs ?? Date.now;
  const cache = new Map<string, { tenantId: string | null; expiresAtMs: number }>();

  return async function tenantFor(apiKey: string): Promise<string | null> {
    const keyHash = hashApiKey(apiKey);
    const cached = cache.get(keyHash);
    if (cached && cached.expiresAtMs > nowMs()) return cached.tenantId;
    const record = await store.find(keyHash);
    const tenantId = record?.tenant_id ?? null;
    if (cache.size > 10_000) cache.clear();
    cache.set(keyHash, { tenantId, expiresAtMs: nowMs() + (tenantId === null ? missTtlMs : ttlMs) });
    return tenantId;
  };
}
