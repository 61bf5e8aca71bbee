import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyAuthenticator, hashApiKey, InMemoryApiKeyStore, newApiKey, type ApiKeyRecord, type ApiKeyStore } from './api-keys.ts';

/** An in-memory store that counts lookups. */
class CountingStore implements ApiKeyStore {
  finds = 0;
  private readonly inner = new InMemoryApiKeyStore();
  async find(keyHash: string) {
    this.finds++;
    return this.inner.find(keyHash);
  }
  put(record: ApiKeyRecord) {
    return this.inner.put(record);
  }
}

async function setup(options: { ttlMs?: number; missTtlMs?: number } = {}) {
  const store = new CountingStore();
  const key = newApiKey();
  await store.put({ key_hash: hashApiKey(key), tenant_id: 'tenant-a', created_at: '2026-01-01T00:00:00.000Z' });
  let now = 1_000_000;
  const tenantFor = apiKeyAuthenticator(store, { ...options, nowMs: () => now });
  return { store, key, tenantFor, advance: (ms: number) => (now += ms) };
}

describe('hashApiKey', () => {
  it('is the lowercase hex SHA-256 of the key', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = newApiKey();
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never equals (or contains) the key itself', () => {
    for (let i = 0; i < 20; i++) {
      const key = newApiKey();
      expect(hashApiKey(key)).not.toBe(key);
      expect(hashApiKey(key)).not.toContain(key);
    }
    expect(hashApiKey('a')).not.toBe(hashApiKey('b'));
  });

  it('newApiKey makes distinct cap_ tokens of 32 random bytes', () => {
    const a = newApiKey();
    expect(a).toMatch(/^cap_[A-Za-z0-9_-]{43}$/);
    expect(newApiKey()).not.toBe(a);
  });
});

describe('apiKeyAuthenticator', () => {
  it('resolves a known key to its tenant and caches the hit for ttlMs', async () => {
    const { store, key, tenantFor, advance } = await setup({ ttlMs: 60_000 });
    expect(await tenantFor(key)).toBe('tenant-a');
    expect(store.finds).toBe(1);

    advance(59_999);
    expect(await tenantFor(key)).toBe('tenant-a');
    expect(store.finds).toBe(1);

    advance(1);
    expect(await tenantFor(key)).toBe('tenant-a');
    expect(store.finds).toBe(2);
  });

  it('caches a miss only for missTtlMs', async () => {
    const { store, tenantFor, advance } = await setup({ ttlMs: 60_000, missTtlMs: 5_000 });
    expect(await tenantFor('cap_unknown')).toBeNull();
    expect(await tenantFor('cap_unknown')).toBeNull();
    expect(store.finds).toBe(1);

    advance(5_000);
    expect(await tenantFor('cap_unknown')).toBeNull();
    expect(store.finds).toBe(2);
  });

  it('a key added after a cached miss is found once the miss expires', async () => {
    const { store, tenantFor, advance } = await setup({ missTtlMs: 5_000 });
    const late = newApiKey();
    expect(await tenantFor(late)).toBeNull();
    await store.put({ key_hash: hashApiKey(late), tenant_id: 'tenant-b', created_at: '2026-01-01T00:00:00.000Z' });
    advance(4_000);
    expect(await tenantFor(late)).toBeNull();
    advance(1_000);
    expect(await tenantFor(late)).toBe('tenant-b');
  });

  it('looks keys up by hash, never by the raw key', async () => {
    const seen: string[] = [];
    const key = newApiKey();
    const tenantFor = apiKeyAuthenticator({
      find: async (keyHash) => {
        seen.push(keyHash);
        return null;
      },
      put: async () => {},
    });
    await tenantFor(key);
    expect(seen).toEqual([hashApiKey(key)]);
  });
});
