/**
 * Webhook deliveries: one per (target, integration event). A target is a subscription
 * (`wh_…`) or a recording's own `webhook_url` (`recording:rec_…`). The `webhook-id` a
 * receiver sees is the event id, the same on every attempt and every target, so receivers
 * deduplicate by it.
 *
 * A delivery is `pending` until an attempt gets a 2xx (`delivered`), the receiver or the
 * guard ends it (`failed`: 410, a refused address, the endpoint gone or disabled), or the
 * retries run out (`dead`: sent to the dead-letter queue). A replay starts a new round.
 */
import { z } from 'zod';

export const DeliveryStatusSchema = z.enum(['pending', 'delivered', 'failed', 'dead']);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

export const DeliveryAttemptSchema = z.object({
  attempt: z.number().int().positive(),
  round: z.number().int().positive(),
  at: z.string(),
  /** HTTP status, or null when no answer came (timeout, connection refused, refused address). */
  status: z.number().int().nullable(),
  outcome: z.enum(['delivered', 'retry', 'disable', 'refused', 'skipped']),
  error: z.string().nullable(),
  duration_ms: z.number().int().nonnegative(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;

export const DeliverySchema = z.object({
  target_key: z.string(),
  event_id: z.string(),
  tenant_id: z.string(),
  /** `wh_…` or `recording:<recording id>`. */
  target: z.string(),
  url: z.string(),
  event_type: z.string(),
  recording_id: z.string(),
  /** The body sent on every attempt: the integration event as JSON. */
  body: z.string(),
  status: DeliveryStatusSchema,
  /** Attempts made in the current round; a retry message for attempt n expects n − 1. */
  attempt_count: z.number().int().nonnegative(),
  /** Replays start a new round with a fresh retry budget. */
  round: z.number().int().positive(),
  /** Set while an attempt is in flight; a lapsed value means the attempt was lost (crash). */
  in_flight_until: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  last_error: z.string().nullable(),
  attempts: z.array(DeliveryAttemptSchema),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.number().int(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

export const DELIVERY_RETENTION_DAYS = 30;
export const RECORDING_TARGET_PREFIX = 'recording:';

export function targetKey(tenantId: string, target: string): string {
  return `${tenantId}#${target}`;
}

export function recordingTarget(recordingId: string): string {
  return `${RECORDING_TARGET_PREFIX}${recordingId}`;
}

/** What a message on the `webhookRetries` queue says: attempt `attempt` of a round is due at `due_at` (attempt 1: a replay). */
export const RetryMessageSchema = z.object({
  tenant_id: z.string(),
  target: z.string(),
  event_id: z.string(),
  round: z.number().int().positive(),
  attempt: z.number().int().min(1),
  due_at: z.string(),
});
export type RetryMessage = z.infer<typeof RetryMessageSchema>;

/** What a dead delivery leaves in the dead-letter queue: enough to find it and replay it. */
export const DeadLetterSchema = z.object({
  kind: z.literal('webhook.delivery.dead'),
  tenant_id: z.string(),
  target: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  url: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
});

/** The public shape of one delivery in the delivery logs: the stored delivery without its keys and body; `id` is the event id. */
export const DeliveryResourceSchema = DeliverySchema.pick({
  event_id: true,
  event_type: true,
  recording_id: true,
  url: true,
  status: true,
  attempt_count: true,
  round: true,
  next_attempt_at: true,
  last_error: true,
  attempts: true,
  created_at: true,
  updated_at: true,
}).extend({ id: z.string() });

export function toDeliveryResource(d: Delivery): z.infer<typeof DeliveryResourceSchema> {
  return DeliveryResourceSchema.parse({ ...d, id: d.event_id });
}
