/**
 * The webhook dispatcher: `webhook-fanout` consumes the `webhookEvents` queue (route
 * `webhook-dispatch`: every integration event) and makes each delivery's first attempt inline;
 * `webhook-retry` consumes the `webhookRetries` queue (one message per due attempt). Both
 * schedule later attempts on the retry queue and send a delivery out of attempts to that
 * queue's dead-letter queue themselves.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { capstanFunction } from './capstan-function.ts';
import type { ResourceEnvironment, WebhookQueueEnvironment } from './environment.ts';
import type { WorkQueue } from './queues.ts';

/** The two queue URLs `buildWebhookDispatcher` requires (dispatcher functions and the API). */
export function webhookQueueEnvironment(retryQueue: sqs.IQueue, deadLetterQueue: sqs.IQueue): WebhookQueueEnvironment {
  return {
    CAPSTAN_WEBHOOK_RETRY_QUEUE_URL: retryQueue.queueUrl,
    CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL: deadLetterQueue.queueUrl,
  };
}

export interface WebhookDispatcherProps {
  readonly environment: ResourceEnvironment;
  /** `QUEUES.webhookEvents`: integration events to fan out. */
  readonly events: WorkQueue;
  /** `QUEUES.webhookRetries`: due attempts; its dead-letter queue takes dead deliveries. */
  readonly retries: WorkQueue;
  readonly deliveriesTable: dynamodb.ITableV2;
  readonly webhooksTable: dynamodb.ITableV2;
  readonly recordingsTable: dynamodb.ITableV2;
}

/**
 * Each attempt has a 15 s budget and a batch's attempts run in parallel: 30 s, and every
 * dispatcher queue's visibility timeout is 6x that (180 s), as AWS advises.
 */
const FUNCTION_TIMEOUT = Duration.seconds(30);
/** Caps the concurrent executions each queue can take, so a burst of events cannot starve the API. */
const MAX_CONCURRENCY = 50;

export class WebhookDispatcher extends Construct {
  readonly fanoutFunction: NodejsFunction;
  readonly retryFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: WebhookDispatcherProps) {
    super(scope, id);
    const retryQueue = props.retries.queue;
    const deadLetterQueue = props.retries.deadLetters.queue;
    const extraEnvironment = webhookQueueEnvironment(retryQueue, deadLetterQueue);

    this.fanoutFunction = capstanFunction(this, 'Fanout', {
      handlerName: 'webhook-fanout',
      description: 'Fans integration events out to webhook endpoints (first attempt inline)',
      environment: props.environment,
      extraEnvironment,
      timeout: FUNCTION_TIMEOUT,
    });
    this.retryFunction = capstanFunction(this, 'Retry', {
      handlerName: 'webhook-retry',
      description: 'Makes due webhook delivery attempts',
      environment: props.environment,
      extraEnvironment,
      timeout: FUNCTION_TIMEOUT,
    });

    const sources: [NodejsFunction, sqs.IQueue][] = [
      [this.fanoutFunction, props.events.queue],
      [this.retryFunction, retryQueue],
    ];
    for (const [fn, queue] of sources) {
      fn.addEventSource(
        new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: MAX_CONCURRENCY }),
      );
      // Deliveries: conditional claims and attempt logs. Webhooks: endpoint list/get, disable
      // on 410 and the tenant signing secret created on first use. Recordings: webhook_url.
      props.deliveriesTable.grantReadWriteData(fn);
      props.webhooksTable.grantReadWriteData(fn);
      props.recordingsTable.grantReadData(fn);
      // Later attempts (delayed hops) and dead deliveries, sent by the dispatcher itself.
      retryQueue.grantSendMessages(fn);
      deadLetterQueue.grantSendMessages(fn);
    }
  }
}
