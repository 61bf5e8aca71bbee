/**
 * Reads the event table's DynamoDB stream (from DynamoDB Local) and invokes the publisher
 * handler with records in the exact shape Lambda delivers. Like the event source mapping it
 * retries a failed record with backoff, and after `maxAttempts` parks it in a dead-letter
 * file instead of dropping it. Checkpoints per shard survive restarts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ExpiredIteratorException,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../shared/logger.ts';

export interface StreamPollerOptions {
  readonly dynamo: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly tableName: string;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  readonly stateDir: string;
  readonly logger: Logger;
  readonly pollMs: number;
  readonly maxAttempts?: number;
  readonly region?: string;
}

/** The SDK's stream record → the Lambda event record (dates become epoch seconds). */
export function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: d.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      NewImage: d.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      OldImage: d.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'],
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
}

export function startStreamPoller(options: StreamPollerOptions) {
  const maxAttempts = options.maxAttempts ?? 10;
  const region = options.region ?? 'us-east-1';
  mkdirSync(options.stateDir, { recursive: true });
  const checkpointFile = join(options.stateDir, 'stream-checkpoints.json');
  const deadLetterFile = join(options.stateDir, 'stream-dead-letters.jsonl');
  const checkpoints: Record<string, string> = existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, string>) : {};
  const iterators = new Map<string, string | null>();
  let streamArn: string | undefined;
  let lastDiscovery = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stats = { records: 0, batches: 0, retries: 0, deadLettered: 0 };

  const saveCheckpoint = (shardId: string, sequenceNumber: string) => {
    checkpoints[shardId] = sequenceNumber;
    writeFileSync(checkpointFile, JSON.stringify(checkpoints));
  };

  async function discover(): Promise<void> {
    const table = await options.dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
    streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
    const description = await options.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      if (iterators.has(shardId)) continue;
      const after = checkpoints[shardId];
      const iterator = await options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      iterators.set(shardId, iterator.ShardIterator ?? null);
    }
    lastDiscovery = Date.now();
  }

  /** Deliver records to the handler until each has succeeded or been dead-lettered. */
  async function deliver(shardId: string, records: DynamoDBRecord[]): Promise<void> {
    let pending = records;
    let attempt = 0;
    while (pending.length > 0 && !stopped) {
      let failedAt: string | undefined;
      try {
        const response = await options.handler({ Records: pending });
        failedAt = response?.batchItemFailures?.[0]?.itemIdentifier;
      } catch (error) {
        options.logger.error('publisher threw', { error });
        failedAt = pending[0]?.dynamodb?.SequenceNumber;
      }
      const failedIndex = failedAt === undefined ? -1 : pending.findIndex((r) => r.dynamodb?.SequenceNumber === failedAt);
      const done = failedIndex === -1 ? pending : pending.slice(0, failedIndex);
      const last = done.at(-1)?.dynamodb?.SequenceNumber;
      if (last) saveCheckpoint(shardId, last);
      stats.records += done.length;
      if (failedIndex === -1) return;
      if (done.length > 0) attempt = 0;
      pending = pending.slice(failedIndex);
      attempt++;
      if (attempt >= maxAttempts) {
        const poison = pending[0]!;
        appendFileSync(deadLetterFile, `${JSON.stringify({ at: new Date().toISOString(), shardId, record: poison })}\n`);
        options.logger.error('stream record dead-lettered after retries', { sequenceNumber: poison.dynamodb?.SequenceNumber, attempts: attempt });
        stats.deadLettered++;
        saveCheckpoint(shardId, poison.dynamodb?.SequenceNumber ?? '');
        pending = pending.slice(1);
        attempt = 0;
        continue;
      }
      stats.retries++;
      await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
    }
  }

  async function pollOnce(): Promise<number> {
    if (!streamArn || Date.now() - lastDiscovery > 5000) await discover();
    let delivered = 0;
    for (const [shardId, iterator] of iterators) {
      if (iterator === null) continue;
      try {
        const page = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
        iterators.set(shardId, page.NextShardIterator ?? null);
        const records = (page.Records ?? []).map((r) => toLambdaRecord(r, streamArn!, region));
        if (records.length > 0) {
          stats.batches++;
          await deliver(shardId, records);
          delivered += records.length;
        }
      } catch (error) {
        if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
          iterators.delete(shardId);
          lastDiscovery = 0;
          continue;
        }
        throw error;
      }
    }
    return delivered;
  }

  const loop = (async () => {
    while (!stopped) {
      let delivered = 0;
      try {
        delivered = await pollOnce();
      } catch (error) {
        if (!stopped) options.logger.warn('stream poll failed', { error });
      }
      if (delivered === 0 && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  return {
    stats,
    /** Ask for a poll now (after a write), instead of waiting for the interval. */
    nudge: () => wake?.(),
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
