/**
 * The publisher's batch semantics with a scripted projection: recordings run in parallel,
 * each in order, and the earliest failure in batch order is what the event source retries.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../eventstore/port.ts';
import { silentLogger } from '../logger.ts';
import type { RecordingProjection } from './recording-projection.ts';
import { streamProcessor } from './stream-processor.ts';

function record(streamId: string, version: number, seq: number): DynamoDBRecord {
  const event: StoredEvent = {
    stream_id: streamId,
    version,
    event_id: `evt_${streamId}_${version}`,
    type: 'RecordingResumed',
    schema_version: 1,
    occurred_at: '2026-12-07T00:00:00.000Z',
    tenant_id: 't',
    correlation_id: null,
    causation_id: null,
    data: {},
  };
  return {
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: String(seq),
      Keys: marshall({ stream_id: streamId, version }) as Record<string, AttributeValue> as never,
      NewImage: marshall(event) as Record<string, AttributeValue> as never,
    },
  };
}

function scripted(failOn: string) {
  const applied: string[] = [];
  const projection = {
    apply: async (event: StoredEvent) => {
      // Later records of other recordings finish first if they were not waiting on each other.
      await new Promise((r) => setTimeout(r, event.stream_id === 'a' ? 5 : 1));
      if (`${event.stream_id}:${event.version}` === failOn) throw new Error('read model down');
      applied.push(`${event.stream_id}:${event.version}`);
      return { outcome: 'applied' as const, view: null };
    },
  } as unknown as RecordingProjection;
  return { applied, projection };
}

const noBus = { publish: async () => undefined };
const noFeed = { append: async () => undefined, read: async () => ({ items: [], next_cursor: null }) };

describe('streamProcessor.processBatch', () => {
  const batch = [record('a', 1, 1), record('b', 1, 2), record('a', 2, 3), record('b', 2, 4), record('a', 3, 5), record('c', 1, 6)];

  it('keeps each recording in order while recordings run side by side', async () => {
    const { applied, projection } = scripted('none');
    const result = await streamProcessor({ projection, bus: noBus, feed: noFeed, logger: silentLogger }).processBatch(batch);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(applied.filter((a) => a.startsWith('a'))).toEqual(['a:1', 'a:2', 'a:3']);
    expect(applied.filter((a) => a.startsWith('b'))).toEqual(['b:1', 'b:2']);
    expect(applied).toHaveLength(6);
    // b and c did not wait for a's slower records.
    expect(applied.indexOf('b:2')).toBeLessThan(applied.indexOf('a:3'));
  });

  it('reports the earliest failed record; the failed recording stops there', async () => {
    const { applied, projection } = scripted('a:2');
    const result = await streamProcessor({ projection, bus: noBus, feed: noFeed, logger: silentLogger }).processBatch(batch);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '3' }] });
    expect(applied).not.toContain('a:3');
    expect(applied).toContain('a:1');
    expect(applied).toContain('b:1');
  });

  it('runs one recording at a time with concurrency 1, in batch order', async () => {
    const { applied, projection } = scripted('none');
    await streamProcessor({ projection, bus: noBus, feed: noFeed, logger: silentLogger, concurrency: 1 }).processBatch(batch);
    expect(applied).toEqual(['a:1', 'a:2', 'a:3', 'b:1', 'b:2', 'c:1']);
  });
});
