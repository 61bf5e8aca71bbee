/**
 * Creates what the cloud stack would: tables (from shared/tables), the bucket, and the
 * queues with their dead-letter queues (from shared/topology). Safe to run on every boot.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CoreConfig } from '../shared/config.ts';
import { API_KEYS_TABLE, DELIVERIES_TABLE, EVENTS_TABLE, FEED_TABLE, IDEMPOTENCY_TABLE, RECORDINGS_TABLE, WEBHOOKS_TABLE, type TableShape } from '../shared/tables.ts';
import { QUEUES, type QueueKey } from '../shared/topology.ts';

export function tableNames(config: CoreConfig): [TableShape, string][] {
  return [
    [EVENTS_TABLE, config.CAPSTAN_EVENTS_TABLE],
    [RECORDINGS_TABLE, config.CAPSTAN_RECORDINGS_TABLE],
    [API_KEYS_TABLE, config.CAPSTAN_API_KEYS_TABLE],
    [IDEMPOTENCY_TABLE, config.CAPSTAN_IDEMPOTENCY_TABLE],
    [FEED_TABLE, config.CAPSTAN_FEED_TABLE],
    [WEBHOOKS_TABLE, config.CAPSTAN_WEBHOOKS_TABLE],
    [DELIVERIES_TABLE, config.CAPSTAN_DELIVERIES_TABLE],
  ];
}

export async function ensureTable(client: DynamoDBClient, shape: TableShape, name: string): Promise<void> {
  const keys = [shape.partitionKey, ...(shape.sortKey ? [shape.sortKey] : [])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        ...(shape.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: shape.stream } } : {}),
      }),
    );
    if (shape.timeToLiveAttribute) {
      await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: shape.timeToLiveAttribute } }));
    }
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await client.send(new DescribeTableCommand({ TableName: name }));
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

export type QueueUrls = Record<QueueKey, { url: string; dlqUrl: string }>;

/** `prefix` keeps tests that share one SQS server apart. */
export async function ensureQueues(sqs: SQSClient, prefix = ''): Promise<QueueUrls> {
  const urls = {} as QueueUrls;
  for (const [key, queue] of Object.entries(QUEUES) as [QueueKey, (typeof QUEUES)[QueueKey]][]) {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}${queue.name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}${queue.name}`,
        Attributes: {
          VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: queue.maxReceiveCount }),
        },
      }),
    );
    urls[key] = { url: main.QueueUrl ?? '', dlqUrl: dlq.QueueUrl ?? '' };
  }
  return urls;
}

export async function bootstrap(deps: { dynamo: DynamoDBClient; s3: S3Client; sqs?: SQSClient; config: CoreConfig }): Promise<QueueUrls | undefined> {
  for (const [shape, name] of tableNames(deps.config)) await ensureTable(deps.dynamo, shape, name);
  await ensureBucket(deps.s3, deps.config.CAPSTAN_BUCKET);
  return deps.sqs ? ensureQueues(deps.sqs) : undefined;
}
