import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from './backoff.ts';

describe('exponentialBackoff', () => {
  it('doubles from the base up to the cap, with half of each delay jittered', () => {
    const low = exponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0 });
    const high = exponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.999_999 });
    expect([0, 1, 2, 3, 4, 50, 5_000].map(low)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(high(0)).toBeCloseTo(100, 3);
    expect(high(5_000)).toBeCloseTo(1_000, 2);
  });
});
