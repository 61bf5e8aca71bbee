/**
 * The publisher's core: DynamoDB stream records (as Lambda receives them) → read model and
 * integration events. Each recording's records are handled in order (recordings in parallel);
 * the earliest failure is reported as the batch item failure, so it and everything after it
 * are retried (bisected by the event source mapping) while earlier records are not. A
 * duplicate record leaves the read model as it is.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { StoredEventSchema, type StoredEvent } from '../eventstore/port.ts';
import type { IntegrationBus } from '../integration/bus.ts';
import { toIntegrationEvent } from '../integration/integration-event.ts';
import type { EventFeed } from '../feed/port.ts';
import type { Logger } from '../logger.ts';
import type { RecordingProjection } from './recording-projection.ts';

export interface StreamProcessorStats {
  applied: number;
  duplicates: number;
  published: number;
  ignored: number;
}

/** Parse a stream record's new image into a stored event; null for anything but an insert. */
export function storedEventFromRecord(record: DynamoDBRecord): StoredEvent | null {
  if (record.eventName !== 'INSERT' || record.dynamodb?.NewImage === undefined) return null;
  return StoredEventSchema.parse(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>));
}

export interface StreamProcessorDeps {
  readonly projection: RecordingProjection;
  readonly bus: IntegrationBus;
  /** The tenant feed behind `GET /v1/events`. */
  readonly feed: EventFeed;
  readonly logger: Logger;
  /** Recordings processed at once within a batch (default 16). */
  readonly concurrency?: number;
  /** The API's public base URL for artifact `file_url`s (a getter: the local runtime learns its port after boot). */
  readonly publicUrl?: () => string | undefined;
}

export function streamProcessor(deps: StreamProcessorDeps) {
  const stats: StreamProcessorStats = { applied: 0, duplicates: 0, published: 0, ignored: 0 };

  async function processRecord(record: DynamoDBRecord): Promise<void> {
    const stored = storedEventFromRecord(record);
    if (stored === null) {
      stats.ignored++;
      deps.logger.warn('stream record ignored: the event store is append-only', { eventName: record.eventName });
      return;
    }
    const result = await deps.projection.apply(stored);
    if (result.outcome === 'duplicate') stats.duplicates++;
    else stats.applied++;
    if (result.view === null) return;
    // Published even for a duplicate: an earlier attempt may have projected and then failed
    // to publish. Delivery is at-least-once; consumers deduplicate by event id and sequence.
    const integration = toIntegrationEvent(stored, result.view, { baseUrl: deps.publicUrl?.() });
    if (integration !== null) {
      // Feed first: a consumer told by a webhook can always find the event in the feed.
      await deps.feed.append([integration]);
      await deps.bus.publish([integration]);
      stats.published++;
    }
  }

  /**
   * Records of different recordings run concurrently (at most `concurrency` recordings at
   * once); each recording's records run in order and stop at its first failure. The batch
   * item failure is the earliest failed record in batch order: it and everything after it are
   * retried, including records of other recordings that already succeeded (they are
   * duplicates then, which the projection ignores and consumers deduplicate).
   */
  async function processBatch(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
    const byRecording = new Map<string, { record: DynamoDBRecord; index: number }[]>();
    records.forEach((record, index) => {
      // Unkeyed records share one lane, so their order is kept.
      const key = record.dynamodb?.Keys?.['stream_id']?.S ?? record.dynamodb?.NewImage?.['stream_id']?.S ?? '#unkeyed';
      const lane = byRecording.get(key) ?? [];
      lane.push({ record, index });
      byRecording.set(key, lane);
    });
    let firstFailed = Number.POSITIVE_INFINITY;
    const lanes = [...byRecording.values()];
    let next = 0;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++]!;
        for (const { record, index } of lane) {
          if (index > firstFailed) break;
          try {
            await processRecord(record);
          } catch (error) {
            deps.logger.error('stream record failed', { sequenceNumber: record.dynamodb?.SequenceNumber, error });
            firstFailed = Math.min(firstFailed, index);
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 16, lanes.length) }, worker));
    const failed = records[firstFailed];
    return { batchItemFailures: failed === undefined ? [] : [{ itemIdentifier: failed.dynamodb?.SequenceNumber ?? '' }] };
  }

  return { stats, processBatch };
}
