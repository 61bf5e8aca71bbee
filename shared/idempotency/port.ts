/**
 * Idempotency keys of create requests (Stripe-style, kept 24 h): the first request under a
 * key claims it with its body hash and the recording id it will create; a retry finds the
 * claim and gets the same recording; another body under the same key is refused.
 */
export interface IdempotencyRecord {
  readonly request_hash: string;
  readonly recording_id: string;
}

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existing: IdempotencyRecord };

export interface IdempotencyStore {
  claim(scopeKey: string, record: IdempotencyRecord, nowMs: number): Promise<ClaimResult>;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
