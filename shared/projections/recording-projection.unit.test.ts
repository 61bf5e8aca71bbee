import { describe, expect, it } from 'vitest';
import { fixedClock, type IdGenerator } from '../clock.ts';
import { InMemoryEventStore } from '../eventstore/memory.ts';
import type { StoredEvent } from '../eventstore/port.ts';
import { InMemoryIdempotencyStore } from '../idempotency/memory.ts';
import { InMemoryRecordingReadModel } from '../readmodel/memory.ts';
import type { RecordingCommand } from '../recording/commands.ts';
import { recordingService } from '../recording/service.ts';
import { foldRecording } from '../recording/view.ts';
import { rebuildRecordings, recordingProjection } from './recording-projection.ts';

function ids26(): IdGenerator {
  let n = 0;
  return { next: (prefix) => `${prefix}_${String(++n).padStart(26, '0')}` };
}

/** Writes real recording streams through the service into an in-memory store. */
function setup() {
  const store = new InMemoryEventStore();
  const readModel = new InMemoryRecordingReadModel();
  const clock = fixedClock('2026-07-01T12:00:00.000Z');
  const service = recordingService({ store, readModel, idempotency: new InMemoryIdempotencyStore(), clock, ids: ids26() });
  const projection = recordingProjection({ store, readModel });

  const system = (id: string, tenantId: string, make: (metadata: { now: string }) => RecordingCommand) => {
    clock.advance(1_000);
    return service.system(id, tenantId, (now) => make({ now }));
  };

  /** requested → starting → recording → stopping → processing: five events. */
  async function recording(tenantId = 'tenant-a'): Promise<{ id: string; events: StoredEvent[] }> {
    const { view } = await service.create({ tenantId }, { source: { type: 'rtp', room_id: 'room-1' }, metadata: { team: 'core' } });
    await system(view.id, tenantId, (metadata) => ({ type: 'ClaimRecording', metadata, data: { recorder_id: 'r-1', ingest: { protocol: 'rtp', host: '10.0.0.1', port: 5004 } } }));
    await system(view.id, tenantId, (metadata) => ({ type: 'StartRecording', metadata, data: {} }));
    await system(view.id, tenantId, (metadata) => ({ type: 'StopRecording', metadata, data: { reason: 'api' } }));
    await system(view.id, tenantId, (metadata) => ({ type: 'FinishCapture', metadata, data: { manifest: { key: `tenant-a/${view.id}/manifest.json`, bytes: 100, sha256: 'ab'.repeat(32) } } }));
    return { id: view.id, events: await store.readStream(view.id) };
  }

  return { store, readModel, projection, service, recording };
}

describe('recordingProjection', () => {
  it('applying events in order builds the same view as folding the stream', async () => {
    const { readModel, projection, recording } = setup();
    const { id, events } = await recording();
    expect(events).toHaveLength(5);

    const outcomes = [];
    for (const event of events) outcomes.push((await projection.apply(event)).outcome);

    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    const view = await readModel.get('tenant-a', id);
    expect(view).toEqual(foldRecording(events));
    expect(view).toMatchObject({
      status: 'processing',
      version: 5,
      metadata: { team: 'core' },
      ingest: { protocol: 'rtp', host: '10.0.0.1', port: 5004 },
      started_at: '2026-07-01T12:00:02.000Z',
      stopped_at: '2026-07-01T12:00:04.000Z',
      duration_seconds: 2,
    });
  });

  it('the first event creates the item and returns the new view', async () => {
    const { readModel, projection, recording } = setup();
    const { id, events } = await recording();
    const result = await projection.apply(events[0]!);
    expect(result.outcome).toBe('applied');
    expect(result.view).toMatchObject({ id, status: 'requested', version: 1 });
    expect(await readModel.get('tenant-a', id)).toEqual(result.view);
  });

  it('applying the same event twice: the second is a duplicate and changes nothing', async () => {
    const { readModel, projection, recording } = setup();
    const { events } = await recording();
    await projection.apply(events[0]!);
    await projection.apply(events[1]!);
    const before = readModel.snapshot();

    const again = await projection.apply(events[1]!);
    expect(again.outcome).toBe('duplicate');
    expect(again.view).toEqual(before[0]);
    expect(readModel.snapshot()).toEqual(before);

    const older = await projection.apply(events[0]!);
    expect(older.outcome).toBe('duplicate');
    expect(readModel.snapshot()).toEqual(before);
  });

  it('a gap (version 3 while the read model is at 1) is caught up from the store', async () => {
    const { readModel, projection, recording } = setup();
    const { id, events } = await recording();
    await projection.apply(events[0]!);

    const result = await projection.apply(events[2]!);

    expect(result.outcome).toBe('caught_up');
    expect(result.view).toEqual(foldRecording(events.slice(0, 3)));
    expect(result.view).toMatchObject({ status: 'recording', version: 3, ingest: { host: '10.0.0.1' }, started_at: '2026-07-01T12:00:02.000Z' });
    // Folded only up to the event being applied, not past it.
    expect(await readModel.get('tenant-a', id)).toMatchObject({ version: 3, status: 'recording' });

    expect((await projection.apply(events[1]!)).outcome).toBe('duplicate');
    expect((await projection.apply(events[3]!)).outcome).toBe('applied');
    expect(await readModel.get('tenant-a', id)).toEqual(foldRecording(events.slice(0, 4)));
  });

  it('a gap from nothing (first delivery is version 2) is caught up too', async () => {
    const { readModel, projection, recording } = setup();
    const { id, events } = await recording();
    const result = await projection.apply(events[1]!);
    expect(result.outcome).toBe('caught_up');
    expect(await readModel.get('tenant-a', id)).toEqual(foldRecording(events.slice(0, 2)));
  });

  it('two projectors on one read model stay correct when one of them is behind', async () => {
    const { store, readModel, projection: first, recording } = setup();
    const second = recordingProjection({ store, readModel });
    const { id, events } = await recording();

    await first.apply(events[0]!);
    await first.apply(events[1]!);
    await second.apply(events[2]!);
    await second.apply(events[3]!);

    // The first projector last saw version 2; the table is at 4.
    expect((await first.apply(events[2]!)).outcome).toBe('duplicate');
    const result = await first.apply(events[4]!);
    expect(result.outcome).toBe('applied');
    expect(await readModel.get('tenant-a', id)).toEqual(foldRecording(events));
    expect(result.view).toEqual(foldRecording(events));
  });

  it('rebuildRecordings over store.readAll() into a fresh read model equals the live one', async () => {
    const { store, readModel, projection, recording, service } = setup();
    const a = await recording('tenant-a');
    const b = await recording('tenant-b');
    const c = await service.create({ tenantId: 'tenant-a' }, { source: { type: 'stream', encoding: 'mulaw', sample_rate: 8000 } });
    await service.execute({ tenantId: 'tenant-a' }, c.view.id, 'DeleteRecording', 'oops');
    const cEvents = await store.readStream(c.view.id);

    // Live: delivered out of order and with duplicates, as a stream might.
    for (const event of [...b.events.slice(2), ...b.events, ...[...a.events].reverse(), ...a.events, ...cEvents, cEvents[0]!]) {
      await projection.apply(event);
    }

    const fresh = new InMemoryRecordingReadModel();
    const counts = await rebuildRecordings(store.readAll(), recordingProjection({ store, readModel: fresh }));

    expect(counts).toEqual({ streams: 3, events: 12 });
    expect(fresh.snapshot()).toHaveLength(3);
    expect(fresh.snapshot()).toEqual(readModel.snapshot());
    expect(fresh.snapshot().map((v) => [v.tenant_id, v.status, v.version])).toEqual([
      ['tenant-a', 'processing', 5],
      ['tenant-b', 'processing', 5],
      ['tenant-a', 'deleted', 2],
    ]);
  });
});
