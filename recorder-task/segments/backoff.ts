/** Retry delays for uploads: exponential, capped, with jitter so many recorders coming back
 * from one S3 outage do not retry in lockstep. */

export interface BackoffOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** In [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/**
 * "Equal jitter": half the capped exponential delay is fixed, half is random. Unlike full
 * jitter it never retries at once, which would only burn an attempt against a dead endpoint.
 */
export function exponentialBackoff(options: BackoffOptions = {}): (attempt: number) => number {
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  return (attempt) => {
    const cappedMs = Math.min(maxMs, baseMs * 2 ** attempt);
    return cappedMs / 2 + (random() * cappedMs) / 2;
  };
}
