/**
 * SQS consumer of the webhook retry queue: each message is one due attempt (or a replay).
 * Early messages wait another hop; duplicates find the attempt taken and do nothing.
 * Failures are reported per message (partial batch response).
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../../shared/logger.ts';
import type { WebhookDispatcher } from '../../shared/webhook-delivery/dispatcher.ts';
import { RetryMessageSchema } from '../../shared/webhook-delivery/model.ts';

export function createWebhookRetryHandler(deps: { dispatcher: WebhookDispatcher; logger: Logger }) {
  return middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    const results = await Promise.all(
      event.Records.map(async (record) => {
        try {
          await deps.dispatcher.retry(RetryMessageSchema.parse(JSON.parse(record.body)));
          return null;
        } catch (error) {
          deps.logger.error('webhook retry failed', { messageId: record.messageId, error });
          return { itemIdentifier: record.messageId };
        }
      }),
    );
    return { batchItemFailures: results.filter((r) => r !== null) };
  });
}
