/** The retry queue on SQS: delayed messages (≤ 15 min per hop) and the dead-letter queue. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RetryQueue } from './dispatcher.ts';
import { DeadLetterSchema, type Delivery, type RetryMessage } from './model.ts';

export class SqsRetryQueue implements RetryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async schedule(message: RetryMessage, delaySeconds: number): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }));
  }

  async deadLetter(delivery: Delivery): Promise<void> {
    const body = DeadLetterSchema.parse({
      kind: 'webhook.delivery.dead',
      tenant_id: delivery.tenant_id,
      target: delivery.target,
      event_id: delivery.event_id,
      event_type: delivery.event_type,
      url: delivery.url,
      attempts: delivery.attempt_count,
      last_error: delivery.last_error,
    });
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.deadLetterQueueUrl, MessageBody: JSON.stringify(body) }));
  }
}
