/**
 * The local queue consumer against local-aws-sqs: `drain` waits for what the queue still
 * holds (the graceful stop of `npm start` uses it, because the local queues live in memory).
 */
import { randomBytes } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../shared/aws/clients.ts';
import { silentLogger } from '../shared/logger.ts';
import { isolatedAdapters } from '../test/support/aws.ts';
import { ensureQueues } from './bootstrap.ts';
import { startQueueConsumer } from './queue-consumer.ts';

let sqs: SQSClient;

beforeAll(async () => {
  sqs = sqsClient((await isolatedAdapters()).config);
});

async function freshQueue(): Promise<string> {
  return (await ensureQueues(sqs, `drain${randomBytes(4).toString('hex')}-`)).mediaCleanup.url;
}

async function sendMany(queueUrl: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, j) => ({ Id: String(j), MessageBody: JSON.stringify({ n: i + j }) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

describe('queue consumer drain', () => {
  it('returns once every message still queued has been handled', async () => {
    const queueUrl = await freshQueue();
    const seen = new Set<number>();
    const consumer = startQueueConsumer({
      sqs,
      queueUrl,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:drain',
      logger: silentLogger,
      handler: async (event) => {
        await new Promise((r) => setTimeout(r, 30)); // a handler that takes its time
        for (const record of event.Records) seen.add((JSON.parse(record.body) as { n: number }).n);
        return { batchItemFailures: [] };
      },
    });
    try {
      await sendMany(queueUrl, 60);
      expect(await consumer.drain(10_000)).toBe(true);
      expect(seen.size).toBe(60);
      expect(consumer.stats.succeeded).toBe(60);
    } finally {
      await consumer.stop();
    }
  });

  it('gives up after its timeout while a batch is still being handled', async () => {
    const queueUrl = await freshQueue();
    let release = () => {};
    const consumer = startQueueConsumer({
      sqs,
      queueUrl,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:drain',
      logger: silentLogger,
      handler: () => new Promise((resolve) => (release = () => resolve({ batchItemFailures: [] }))),
    });
    try {
      await sendMany(queueUrl, 1);
      const started = Date.now();
      expect(await consumer.drain(300)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      release();
      await consumer.stop();
    }
  });
});
