import { describe, expect, it } from 'vitest';
import { resumeMessage } from './dispatcher.ts';
import { deliveryFixture } from '../../test/support/deliveries.ts';

const NOW = '2026-12-07T12:00:00.000Z';
const base = deliveryFixture({ tenant_id: 't', target: 'wh_1', event_id: 'evt_1', round: 2 }, NOW);
const key = { tenant_id: 't', target: 'wh_1', event_id: 'evt_1', round: 2 };

describe('resumeMessage', () => {
  it('a delivery never attempted: attempt 1, now', () => {
    expect(resumeMessage(base, NOW)).toEqual({ message: { ...key, attempt: 1, due_at: NOW }, delaySeconds: 0 });
  });

  it('between attempts: the next attempt at its next_attempt_at, held by SQS until then', () => {
    const d = { ...base, attempt_count: 3, next_attempt_at: '2026-12-07T12:00:40.000Z' };
    expect(resumeMessage(d, NOW)).toEqual({ message: { ...key, attempt: 4, due_at: '2026-12-07T12:00:40.000Z' }, delaySeconds: 40 });
  });

  it('an attempt overdue: now', () => {
    const d = { ...base, attempt_count: 2, next_attempt_at: '2026-12-07T11:00:00.000Z' };
    expect(resumeMessage(d, NOW)).toEqual({ message: { ...key, attempt: 3, due_at: NOW }, delaySeconds: 0 });
  });

  it('an attempt in flight: the same attempt, just over a second after its lease lapses', () => {
    const d = { ...base, attempt_count: 2, in_flight_until: '2026-12-07T12:00:30.000Z' };
    expect(resumeMessage(d, NOW)).toEqual({ message: { ...key, attempt: 2, due_at: '2026-12-07T12:00:31.001Z' }, delaySeconds: 32 });
  });

  it('a lease already lapsed: the same attempt, right away', () => {
    const d = { ...base, attempt_count: 1, in_flight_until: '2026-12-07T11:59:00.000Z' };
    expect(resumeMessage(d, NOW).message).toEqual({ ...key, attempt: 1, due_at: NOW });
  });
});
