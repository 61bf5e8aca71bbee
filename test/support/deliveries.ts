/** A stored webhook delivery for tests: a pending first round to `https://example.com/hook`, fields overridable. */
import { targetKey, type Delivery } from '../../shared/webhook-delivery/model.ts';

export function deliveryFixture(fields: Partial<Delivery> & Pick<Delivery, 'tenant_id' | 'target' | 'event_id'>, now = '2026-12-07T12:00:00.000Z'): Delivery {
  return {
    url: 'https://example.com/hook',
    event_type: 'recording.started',
    recording_id: 'rec_1',
    body: '{}',
    status: 'pending',
    attempt_count: 0,
    round: 1,
    in_flight_until: null,
    next_attempt_at: null,
    last_error: null,
    attempts: [],
    created_at: now,
    updated_at: now,
    expires_at: 2_000_000_000,
    ...fields,
    target_key: targetKey(fields.tenant_id, fields.target),
  };
}
