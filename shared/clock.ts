/** Time and ids come in through these ports so domain code and tests stay deterministic. */
import { monotonicFactory } from 'ulid';

export interface Clock {
  /** ISO 8601 instant with milliseconds, UTC. */
  now(): string;
}

export interface IdGenerator {
  /** A new sortable unique id with the given prefix, e.g. `rec_01J…`. */
  next(prefix: string): string;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

export function ulidGenerator(): IdGenerator {
  const ulid = monotonicFactory();
  return { next: (prefix) => `${prefix}_${ulid().toLowerCase()}` };
}

/** A clock that only moves when told to: for tests. */
export function fixedClock(start: string): Clock & { advance(ms: number): void } {
  let current = Date.parse(start);
  return {
    now: () => new Date(current).toISOString(),
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Deterministic ids: `prefix_000001`, … For tests. */
export function sequentialIds(): IdGenerator {
  let n = 0;
  return { next: (prefix) => `${prefix}_${String(++n).padStart(6, '0')}` };
}
