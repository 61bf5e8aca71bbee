/**
 * SQS consumer of every integration event (route `webhook-dispatch`): one delivery per
 * subscribed endpoint and per recording `webhook_url`, first attempt inline. Records run in
 * parallel; a record whose deliveries could not all be recorded is a batch item failure
 * (retried without repeating the deliveries already made; after `maxReceiveCount`, its DLQ).
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventBridgeEnvelopeSchema } from '../../shared/integration/envelope.ts';
import type { Logger } from '../../shared/logger.ts';
import type { WebhookDispatcher } from '../../shared/webhook-delivery/dispatcher.ts';
import type { WebhookEndpoint } from '../../shared/webhook-endpoints/model.ts';

export function createWebhookFanoutHandler(deps: { dispatcher: WebhookDispatcher; listEndpoints: (tenantId: string) => Promise<WebhookEndpoint[]>; logger: Logger }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    // One endpoint lookup per tenant per batch.
    const endpoints = new Map<string, Promise<WebhookEndpoint[]>>();
    const endpointsOf = (tenantId: string) => {
      let found = endpoints.get(tenantId);
      if (found === undefined) endpoints.set(tenantId, (found = deps.listEndpoints(tenantId)));
      return found;
    };
    const results = await Promise.all(
      event.Records.map(async (record) => {
        try {
          const { detail } = EventBridgeEnvelopeSchema.parse(JSON.parse(record.body));
          await deps.dispatcher.fanOut(detail, endpointsOf);
          return null;
        } catch (error) {
          deps.logger.error('webhook fan-out failed', { messageId: record.messageId, error });
          return { itemIdentifier: record.messageId };
        }
      }),
    );
    return { batchItemFailures: results.filter((r) => r !== null) };
  });
}
