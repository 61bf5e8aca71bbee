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
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? ulidGenerator();
  return {
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
      checkUrl: (url) => checkWebhookUrl(url, webhookAllowlist),
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
