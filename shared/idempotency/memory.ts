import { IDEMPOTENCY_TTL_SECONDS, type ClaimResult, type IdempotencyRecord, type IdempotencyStore } from './port.ts';

export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord & { expiresAtMs: number }>();

  async claim(scopeKey: string, record: IdempotencyRecord, nowMs: number): Promise<ClaimResult> {
    const existing = this.records.get(scopeKey);
    if (existing && existing.expiresAtMs > nowMs) {
      return { claimed: false, existing: { request_hash: existing.request_hash, recording_id: existing.recording_id } };
    }
    this.records.set(scopeKey, { ...record, expiresAtMs: nowMs + IDEMPOTENCY_TTL_SECONDS * 1000 });
    return { claimed: true };
  }
}
