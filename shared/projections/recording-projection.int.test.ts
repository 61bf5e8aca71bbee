/**
 * The publisher fed by DynamoDB Local's real stream, records in Lambda's shape: the read
 * model follows the store, duplicate records change nothing, and a rebuild from the store
 * equals the live read model.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublishHandler } from '../../functions/publish/app.ts';
import { invokeLocally } from '../../local/lambda-context.ts';
import { ensureTable } from '../../local/bootstrap.ts';
import { startStreamPoller } from '../../local/stream-poller.ts';
import { isolatedAdapters } from '../../test/support/aws.ts';
import type { IntegrationEvent } from '../integration/integration-event.ts';
import { silentLogger } from '../logger.ts';
import { DynamoDbRecordingReadModel } from '../readmodel/dynamodb.ts';
import { RECORDINGS_TABLE } from '../tables.ts';
import { rebuildRecordings, recordingProjection } from './recording-projection.ts';

let adapters: Awaited<ReturnType<typeof isolatedAdapters>>;
const published: IntegrationEvent[] = [];
const delivered: DynamoDBRecord[] = [];
let publish: (event: DynamoDBStreamEvent) => Promise<unknown>;
let poller: ReturnType<typeof startStreamPoller>;
const tenant = { tenantId: 'tenant-a' };

async function until(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the projection');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  adapters = await isolatedAdapters();
  const handler = invokeLocally('publish', createPublishHandler({
    projection: adapters.projection,
    feed: adapters.feed,
    bus: { publish: async (events) => void published.push(...events) },
    logger: silentLogger,
  }));
  publish = handler;
  poller = startStreamPoller({
    dynamo: adapters.dynamo,
    streams: new DynamoDBStreamsClient({ region: 'us-east-1', endpoint: inject('dynamodbEndpoint'), credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    tableName: adapters.config.CAPSTAN_EVENTS_TABLE,
    handler: async (event) => {
      delivered.push(...event.Records);
      return handler(event);
    },
    stateDir: mkdtempSync(join(tmpdir(), 'capstan-poller-')),
    logger: silentLogger,
    pollMs: 20,
  });
});

afterAll(async () => {
  await poller?.stop();
});

describe('projection from the DynamoDB stream', () => {
  const ids: string[] = [];

  it('builds the read model from stream records and publishes integration events in order', async () => {
    for (let i = 0; i < 6; i++) {
      const { view } = await adapters.service.create(tenant, { source: { type: 'rtp' }, metadata: { n: i, team: i % 2 ? 'odd' : 'even' } });
      ids.push(view.id);
    }
    await adapters.service.execute(tenant, ids[0]!, 'StopRecording');
    await adapters.service.execute(tenant, ids[1]!, 'DeleteRecording');
    await adapters.service.system(ids[2]!, tenant.tenantId, (now) => ({ type: 'StartRecording', data: {}, metadata: { now } }));
    await adapters.service.execute(tenant, ids[2]!, 'PauseRecording', 'lunch');

    await until(async () => (await adapters.readModel.get('tenant-a', ids[2]!))?.status === 'paused' && (await adapters.readModel.get('tenant-a', ids[0]!))?.status === 'failed');
    for (const id of ids) {
      expect(await adapters.readModel.get('tenant-a', id)).toEqual(await adapters.service.get(tenant, id));
    }
    const page = await adapters.readModel.list('tenant-a', { limit: 10, metadata: { team: 'odd' } });
    expect(page.items.map((v) => v.id).sort()).toEqual([ids[1], ids[3], ids[5]].sort());

    // Lambda's record shape: INSERT with a NewImage, an epoch-seconds creation time, a sequence number.
    const first = delivered[0]!;
    expect(first).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { StreamViewType: 'NEW_IMAGE' } });
    expect(typeof first.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(first.dynamodb?.NewImage?.['stream_id']).toEqual({ S: expect.any(String) });

    const forPaused = published.filter((e) => e.recording_id === ids[2]).map((e) => [e.sequence, e.type]);
    expect(forPaused).toEqual([[1, 'recording.requested'], [2, 'recording.started'], [3, 'recording.paused']]);
  });

  it('writes every published event to the tenant feed, in event-id order, once', async () => {
    const mine = published.filter((e) => e.tenant_id === 'tenant-a');
    await until(async () => (await adapters.feed.read('tenant-a', null, 1000, '9999-01-01T00:00:00.000Z')).items.length >= mine.length);
    const feed = await adapters.feed.read('tenant-a', null, 1000, '9999-01-01T00:00:00.000Z');
    expect(feed.items.map((e) => e.id)).toEqual([...new Set(mine.map((e) => e.id))].sort());
    expect(feed.items).toEqual(expect.arrayContaining(mine));
  });

  it('duplicate stream records change nothing in the read model', async () => {
    const live = new DynamoDbRecordingReadModel(adapters.docs, adapters.config.CAPSTAN_RECORDINGS_TABLE);
    const before = await live.scanAll();
    const response = await publish({ Records: [...delivered, ...delivered.slice(0, 5)] });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await live.scanAll()).toEqual(before);
  });

  it('a rebuild from the store equals the live read model', async () => {
    const live = new DynamoDbRecordingReadModel(adapters.docs, adapters.config.CAPSTAN_RECORDINGS_TABLE);
    const rebuiltTable = `${adapters.config.CAPSTAN_RECORDINGS_TABLE}-rebuilt`;
    await ensureTable(adapters.dynamo, RECORDINGS_TABLE, rebuiltTable);
    const rebuilt = new DynamoDbRecordingReadModel(adapters.docs, rebuiltTable);
    const result = await rebuildRecordings(adapters.store.readAll(), recordingProjection({ readModel: rebuilt, store: adapters.store }));
    expect(result.streams).toBe(6);
    const liveItems = await live.scanAll();
    expect(liveItems).toHaveLength(6);
    expect(await rebuilt.scanAll()).toEqual(liveItems);
  });
});
