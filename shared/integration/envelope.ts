/**
 * The EventBridge envelope an SQS target receives. The local router wraps integration
 * events in the same shape, so queue consumers parse one format in both engines.
 */
import { z } from 'zod';
import { EVENT_SOURCE } from './event-types.ts';
import { IntegrationEventSchema, type IntegrationEvent } from './integration-event.ts';

export const EventBridgeEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string(),
  'detail-type': z.string(),
  source: z.literal(EVENT_SOURCE),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: IntegrationEventSchema,
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

export function envelope(event: IntegrationEvent, options: { id: string; account?: string; region?: string }): EventBridgeEnvelope {
  return {
    version: '0',
    id: options.id,
    'detail-type': event.type,
    source: EVENT_SOURCE,
    account: options.account ?? '000000000000',
    time: event.occurred_at,
    region: options.region ?? 'local',
    resources: [],
    detail: event,
  };
}
