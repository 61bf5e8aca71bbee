/**
 * SQS consumer of every integration event (route `webhook-dispatch`): one delivery per
 * subscribed endpoint and per recording `webhook_url`, first attempt inline. Records run
 * together; a record whose deliveries could not all be recorded is a batch item failure
 * (retried without repeating the deliveries already made; after `maxReceiveCount`, its DLQ).
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventBridgeEnvelopeSchema } from '../../shared/integration/envelope.ts';
import type { IntegrationEvent } from '../../shared/integration/integration-event.ts';
import type { Logger } from '../../shared/logger.ts';
import type { WebhookDispatcher } from '../../shared/webhook-delivery/dispatcher.ts';

export function createWebhookFanoutHandler(deps: { dispatcher: WebhookDispatcher; logger: Logger }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    // Unreadable records fail alone; the rest fan out together (one create transaction,
    // parallel first attempts, batched result writes).
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const parsed: { messageId: string; event: IntegrationEvent }[] = [];
    for (const record of event.Records) {
      try {
        parsed.push({ messageId: record.messageId, event: EventBridgeEnvelopeSchema.parse(JSON.parse(record.body)).detail });
      } catch (error) {
        deps.logger.error('webhook fan-out: unreadable message', { messageId: record.messageId, error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    const errors = await deps.dispatcher.fanOutBatch(parsed.map((p) => p.event));
    errors.forEach((error, i) => {
      if (error === null) return;
      deps.logger.error('webhook fan-out failed', { messageId: parsed[i]!.messageId, eventId: parsed[i]!.event.id, error });
      failures.push({ itemIdentifier: parsed[i]!.messageId });
    });
    return { batchItemFailures: failures };
  });
}
