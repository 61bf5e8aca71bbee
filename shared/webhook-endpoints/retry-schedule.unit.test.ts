import { describe, expect, it } from 'vitest';
import { CoreConfigSchema, readConfig } from '../config.ts';
import { nextRetryDelaySeconds, parseRetryAfter, RETRY_DELAYS_SECONDS, sqsDelaySeconds } from './retry-schedule.ts';

describe('webhook retry schedule', () => {
  it('spans more than 24 h before the dead-letter queue, even with the shortest jitter', () => {
    const shortest = RETRY_DELAYS_SECONDS.map((_, i) => nextRetryDelaySeconds(i + 1, { random: () => 0 })!);
    expect(shortest.reduce((a, b) => a + b, 0)).toBeGreaterThan(86_400);
    const nominal = RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(nominal).toBeGreaterThan(86_400);
    expect(nextRetryDelaySeconds(RETRY_DELAYS_SECONDS.length + 1)).toBeNull();
  });

  it('jitters ±20 % and grows', () => {
    expect(nextRetryDelaySeconds(1, { random: () => 0 })).toBe(4);
    expect(nextRetryDelaySeconds(1, { random: () => 1 })).toBe(6);
    expect(nextRetryDelaySeconds(4, { random: () => 0.5 })).toBe(600);
  });

  it('honours Retry-After as seconds or an HTTP date, bounded', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(nextRetryDelaySeconds(1, { retryAfter: '120', now })).toBe(120);
    expect(nextRetryDelaySeconds(1, { retryAfter: 'Mon, 23 Nov 2026 12:05:00 GMT', now })).toBe(300);
    expect(nextRetryDelaySeconds(1, { retryAfter: '999999', now })).toBe(86_400);
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('long waits go to SQS in hops of at most 15 minutes', () => {
    expect(sqsDelaySeconds(10_000_000, 0)).toBe(900);
    expect(sqsDelaySeconds(30_500, 0)).toBe(31);
    expect(sqsDelaySeconds(0, 5_000)).toBe(0);
  });

  it('follows a configured schedule (CAPSTAN_WEBHOOK_RETRY_SCHEDULE), and rejects a bad one naming the setting', () => {
    const delays = readConfig(CoreConfigSchema, { CAPSTAN_WEBHOOK_RETRY_SCHEDULE: '1, 2,3' }).CAPSTAN_WEBHOOK_RETRY_SCHEDULE;
    expect(delays).toEqual([1, 2, 3]);
    expect([1, 2, 3, 4].map((attempt) => nextRetryDelaySeconds(attempt, { delays, random: () => 0.5 }))).toEqual([1, 2, 3, null]);
    expect(readConfig(CoreConfigSchema, {}).CAPSTAN_WEBHOOK_RETRY_SCHEDULE).toBeUndefined();
    for (const bad of ['0', '1,x', '90000', '1.5']) {
      expect(() => readConfig(CoreConfigSchema, { CAPSTAN_WEBHOOK_RETRY_SCHEDULE: bad }), bad).toThrow(/CAPSTAN_WEBHOOK_RETRY_SCHEDULE/);
    }
  });
});
