/**
 * When to try a webhook delivery again. Attempts are spread over more than a day (Standard
 * Webhooks practice; Stripe and Svix retry for days): the n-th retry waits about
 * 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, 8 h (≈ 31.7 h in all, never under
 * 25 h even at the shortest jitter), each with ±20 % jitter so endpoints that failed together do not come back together. A `Retry-After`
 * (429/503) replaces the next wait, bounded to 24 h. After the last one: dead-letter.
 */
export const RETRY_DELAYS_SECONDS: readonly number[] = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800, 28_800];
export const MAX_RETRY_AFTER_SECONDS = 86_400;
/** SQS DelaySeconds tops out at 15 min (and visibility at 12 h): longer waits are re-enqueued in hops. */
export const SQS_MAX_DELAY_SECONDS = 900;

/** Seconds to wait before attempt `attempt + 1` (attempt counts from 1), or null when none is left. */
export function nextRetryDelaySeconds(
  attempt: number,
  options: { retryAfter?: string | null; now?: number; random?: () => number; delays?: readonly number[] | undefined } = {},
): number | null {
  const base = (options.delays ?? RETRY_DELAYS_SECONDS)[attempt - 1];
  if (base === undefined) return null;
  const hinted = parseRetryAfter(options.retryAfter ?? null, options.now ?? Date.now());
  if (hinted !== null) return Math.min(hinted, MAX_RETRY_AFTER_SECONDS);
  const random = options.random ?? Math.random;
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

/** `Retry-After` as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The SQS delay for a message due at `dueAtMs`: the rest of the wait, at most one hop. */
export function sqsDelaySeconds(dueAtMs: number, nowMs: number): number {
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAtMs - nowMs) / 1000)));
}
