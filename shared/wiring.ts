/**
 * Builds the AWS-backed adapters from config: the one place clients meet table names.
 * Lambda handlers and the local runtime both call this, so they run the same adapters.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { apiKeyAuthenticator, DynamoDbApiKeyStore } from './auth/api-keys.ts';
import { documentClient, dynamoDbClient, s3Client } from './aws/clients.ts';
import { systemClock, ulidGenerator, type Clock, type IdGenerator } from './clock.ts';
import type { CoreConfig } from './config.ts';
import { DynamoDbEventStore } from './eventstore/dynamodb.ts';
import { DynamoDbIdempotencyStore } from './idempotency/dynamodb.ts';
import { recordingProjection } from './projections/recording-projection.ts';
import { DynamoDbRecordingReadModel } from './readmodel/dynamodb.ts';
import { recordingService } from './recording/service.ts';
import { s3Presigner } from './media/downloads.ts';
import { DynamoDbEventFeed } from './feed/dynamodb.ts';
import { webhookEndpointService } from './webhook-endpoints/service.ts';
import { DynamoDbWebhookEndpointStore } from './webhook-endpoints/store.ts';
import { newWebhookSecret } from './webhook-endpoints/secrets.ts';
import { checkWebhookUrl, parseAllowlist } from './webhook-endpoints/url-check.ts';
import { deliverWebhook } from './webhook-endpoints/deliver.ts';
import { webhookDispatcher, type WebhookDispatcher } from './webhook-delivery/dispatcher.ts';
import { deliveryLog, type DeliveryLog } from './webhook-delivery/delivery-log.ts';
import { SqsRetryQueue } from './webhook-delivery/sqs-retry-queue.ts';
import { DynamoDbDeliveryStore } from './webhook-delivery/store.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from './logger.ts';

export function buildAdapters(config: CoreConfig, options: { clock?: Clock; ids?: IdGenerator } = {}) {
  const dynamo = dynamoDbClient(config);
  const docs = documentClient(dynamo);
  const s3 = s3Client(config);
  const store = new DynamoDbEventStore(docs, config.CAPSTAN_EVENTS_TABLE);
  const readModel = new DynamoDbRecordingReadModel(docs, config.CAPSTAN_RECORDINGS_TABLE);
  const idempotency = new DynamoDbIdempotencyStore(docs, config.CAPSTAN_IDEMPOTENCY_TABLE);
  const apiKeys = new DynamoDbApiKeyStore(docs, config.CAPSTAN_API_KEYS_TABLE);
  const feed = new DynamoDbEventFeed(docs, config.CAPSTAN_FEED_TABLE);
  const webhookAllowlist = parseAllowlist(config.CAPSTAN_WEBHOOK_ALLOWLIST);
  const deliveries = new DynamoDbDeliveryStore(docs, config.CAPSTAN_DELIVERIES_TABLE);
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? ulidGenerator();
  return {
    webhookAllowlist,
    deliveries,
    dynamo,
    docs,
    s3,
    store,
    readModel,
    idempotency,
    apiKeys,
    feed,
    clock,
    service: recordingService({ store, readModel, idempotency, clock, ids }),
    webhooks: webhookEndpointService({
      store: new DynamoDbWebhookEndpointStore(docs, config.CAPSTAN_WEBHOOKS_TABLE),
      clock,
      ids,
      newSecret: newWebhookSecret,
      checkUrl: (url, check) => checkWebhookUrl(url, webhookAllowlist, undefined, check),
    }),
    presign: s3Presigner(s3, config.CAPSTAN_BUCKET, config.CAPSTAN_DOWNLOAD_URL_TTL_SECONDS),
    projection: recordingProjection({ readModel, store }),
    tenantForApiKey: apiKeyAuthenticator(apiKeys),
    healthChecks: {
      event_store: async () => {
        await dynamo.send(new DescribeTableCommand({ TableName: config.CAPSTAN_EVENTS_TABLE }));
      },
      object_store: async () => {
        await s3.send(new HeadBucketCommand({ Bucket: config.CAPSTAN_BUCKET }));
      },
    },
  };
}

export type Adapters = ReturnType<typeof buildAdapters>;

/**
 * The webhook dispatcher on the adapters: SQS retry queue and dead-letter queue, the
 * recordings read model for each recording's own `webhook_url`, deliveries through the SSRF
 * guard with the configured allowlist.
 */
export function buildWebhookDispatcher(
  adapters: Adapters,
  config: CoreConfig,
  deps: { sqs: SQSClient; logger: Logger; retryQueueUrl?: string; deadLetterQueueUrl?: string; random?: () => number },
): WebhookDispatcher {
  const retryQueueUrl = deps.retryQueueUrl ?? config.CAPSTAN_WEBHOOK_RETRY_QUEUE_URL;
  const deadLetterQueueUrl = deps.deadLetterQueueUrl ?? config.CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL;
  if (retryQueueUrl === undefined || deadLetterQueueUrl === undefined) {
    throw new Error('the webhook dispatcher needs CAPSTAN_WEBHOOK_RETRY_QUEUE_URL and CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL');
  }
  const { webhooks } = adapters;
  return webhookDispatcher({
    deliveries: adapters.deliveries,
    endpoints: { get: webhooks.find, list: webhooks.list, disable: webhooks.disable, signingSecret: webhooks.signingSecret },
    recordingWebhookUrl: async (tenantId, recordingId) => (await adapters.readModel.get(tenantId, recordingId))?.webhook_url ?? null,
    queue: new SqsRetryQueue(deps.sqs, retryQueueUrl, deadLetterQueueUrl),
    send: (request) => deliverWebhook({ ...request, allow: adapters.webhookAllowlist }),
    clock: adapters.clock,
    logger: deps.logger,
    retryDelaysSeconds: config.CAPSTAN_WEBHOOK_RETRY_SCHEDULE,
    random: deps.random,
  });
}

/** The API's view of deliveries: logs from the table, replays through the dispatcher's queue. */
export function buildDeliveryLog(adapters: Adapters, dispatcher: Pick<WebhookDispatcher, 'replay' | 'replayEvent'>): DeliveryLog {
  return deliveryLog({
    deliveries: adapters.deliveries,
    dispatcher,
    feed: adapters.feed,
    endpoint: adapters.webhooks.get,
    recording: (tenantId, recordingId) => adapters.service.get({ tenantId, requestId: 'delivery-log' }, recordingId),
    clock: adapters.clock,
  });
}
