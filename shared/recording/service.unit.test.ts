import { describe, expect, it } from 'vitest';
import { fixedClock, type IdGenerator } from '../clock.ts';
import { InMemoryEventStore } from '../eventstore/memory.ts';
import { InMemoryIdempotencyStore } from '../idempotency/memory.ts';
import { InMemoryRecordingReadModel } from '../readmodel/memory.ts';
import type { RecordingCommand } from './commands.ts';
import { IdempotencyConflictError, InvalidTransitionError, RecordingNotFoundError } from './errors.ts';
import { DEFAULT_KEY_TEMPLATE } from './model.ts';
import { CreateRecordingRequestSchema, RECORDING_ID_PATTERN, type CreateRecordingRequest } from './requests.ts';
import { canonicalJson, recordingService } from './service.ts';

const START = '2026-06-01T09:00:00.000Z';

/** Sequential ids shaped like real ones: `rec_` + 26 lowercase alphanumerics. */
function sequentialIds26(): IdGenerator {
  let n = 0;
  return { next: (prefix) => `${prefix}_${String(++n).padStart(26, '0')}` };
}

function setup() {
  const store = new InMemoryEventStore();
  const readModel = new InMemoryRecordingReadModel();
  const idempotency = new InMemoryIdempotencyStore();
  const clock = fixedClock(START);
  const service = recordingService({ store, readModel, idempotency, clock, ids: sequentialIds26() });
  return { store, clock, service };
}

async function streamIds(store: InMemoryEventStore): Promise<string[]> {
  const ids = new Set<string>();
  for await (const event of store.readAll()) ids.add(event.stream_id);
  return [...ids];
}

const body = (raw: unknown): CreateRecordingRequest => CreateRecordingRequestSchema.parse(raw);
const tenantA = { tenantId: 'tenant-a', requestId: 'req-1' };
const tenantB = { tenantId: 'tenant-b' };

describe('canonicalJson', () => {
  it('ignores key order at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'x' } };
    const b = { a: { x: 'x', y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"x","y":[1,{"p":2,"q":1}]},"b":1}');
  });

  it('drops undefined properties, keeps null', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: null })).toBe('{"a":1,"c":null}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('keeps array order and tells different values apart', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
  });
});

describe('recordingService', () => {
  describe('create', () => {
    it('returns the requested view with defaults for an rtp source', async () => {
      const { service } = setup();
      const { view, replayed } = await service.create(tenantA, body({ source: { type: 'rtp' } }));

      expect(replayed).toBe(false);
      expect(view.id).toMatch(RECORDING_ID_PATTERN);
      expect(view).toEqual({
        id: view.id,
        tenant_id: 'tenant-a',
        status: 'requested',
        source: { type: 'rtp' },
        recording_name: null,
        metadata: {},
        storage_settings: { key_template: DEFAULT_KEY_TEMPLATE },
        webhook_url: null,
        outputs: ['composite.mp4', 'audio.m4a'],
        layout: { preset: 'grid' },
        created_at: START,
        updated_at: START,
        started_at: null,
        stopped_at: null,
        duration_seconds: null,
        scheduled_for: null,
        ingest: null,
        recorder_id: null,
        tracks: [],
        timeline: [],
        capture_gaps: [],
        manifest: null,
        interruptions: [],
        artifacts: [],
        compositions: [],
        failure: null,
        version: 1,
      });
    });

    it('defaults a stream source to audio.wav and the audio_only layout', async () => {
      const { service } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'stream', encoding: 'pcm_s16le', sample_rate: 16000 } }));
      expect(view.outputs).toEqual(['audio.wav']);
      expect(view.layout).toEqual({ preset: 'audio_only' });
      expect(view.storage_settings).toEqual({ key_template: DEFAULT_KEY_TEMPLATE });
    });

    it('keeps what the caller chose instead of the defaults', async () => {
      const { service } = setup();
      const { view } = await service.create(
        tenantA,
        body({
          source: { type: 'rtp' },
          recording_name: '  standup  ',
          outputs: ['transcript'],
          layout: { preset: 'speaker' },
          storage_settings: { key_template: 'archive/{date}/{recording_id}/{name}' },
          webhook_url: 'https://hooks.example.com/x',
          metadata: { team: 'core' },
        }),
      );
      expect(view).toMatchObject({
        recording_name: 'standup',
        outputs: ['transcript'],
        layout: { preset: 'speaker' },
        storage_settings: { key_template: 'archive/{date}/{recording_id}/{name}' },
        webhook_url: 'https://hooks.example.com/x',
        metadata: { team: 'core' },
      });
    });

    it('records tenant, request id and time on the stored event', async () => {
      const { service, store } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }), 'key-1');
      const [event] = await store.readStream(view.id);
      expect(event).toMatchObject({
        type: 'RecordingRequested',
        schema_version: 1,
        version: 1,
        tenant_id: 'tenant-a',
        correlation_id: 'req-1',
        occurred_at: START,
        data: { recording_id: view.id, tenant_id: 'tenant-a', idempotency_key: 'key-1' },
      });
    });

    it('without an Idempotency-Key, two creates make two recordings', async () => {
      const { service, store } = setup();
      const first = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      const second = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      expect(second.view.id).not.toBe(first.view.id);
      expect(second.replayed).toBe(false);
      expect(await streamIds(store)).toHaveLength(2);
    });

    it('same Idempotency-Key and same body (keys in another order) replays the same view, one stream', async () => {
      const { service, store, clock } = setup();
      const first = await service.create(
        tenantA,
        body({ source: { type: 'rtp', room_id: 'room-1', requester_id: 'u-1' }, metadata: { a: 1, b: 'two' }, outputs: ['audio.mp3'] }),
        'key-1',
      );
      clock.advance(5_000);
      const retry = await service.create(
        tenantA,
        body({ outputs: ['audio.mp3'], metadata: { b: 'two', a: 1 }, source: { requester_id: 'u-1', room_id: 'room-1', type: 'rtp' } }),
        'key-1',
      );

      expect(first.replayed).toBe(false);
      expect(retry.replayed).toBe(true);
      expect(retry.view).toEqual(first.view);
      expect(await streamIds(store)).toEqual([first.view.id]);
      expect(await store.readStream(first.view.id)).toHaveLength(1);
    });

    it('same Idempotency-Key with a different body is an IdempotencyConflictError and creates nothing', async () => {
      const { service, store } = setup();
      const first = await service.create(tenantA, body({ source: { type: 'rtp' } }), 'key-1');
      await expect(service.create(tenantA, body({ source: { type: 'rtp' }, recording_name: 'other' }), 'key-1')).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      expect(await streamIds(store)).toEqual([first.view.id]);
    });

    it('the same Idempotency-Key in two tenants makes independent recordings', async () => {
      const { service, store } = setup();
      const request = body({ source: { type: 'rtp' } });
      const a = await service.create(tenantA, request, 'shared-key');
      const b = await service.create(tenantB, request, 'shared-key');

      expect(b.replayed).toBe(false);
      expect(b.view.id).not.toBe(a.view.id);
      expect(a.view.tenant_id).toBe('tenant-a');
      expect(b.view.tenant_id).toBe('tenant-b');
      expect((await streamIds(store)).sort()).toEqual([a.view.id, b.view.id].sort());
      expect((await service.get(tenantB, b.view.id)).tenant_id).toBe('tenant-b');
      await expect(service.get(tenantB, a.view.id)).rejects.toBeInstanceOf(RecordingNotFoundError);
    });

    it('a replay answers with the view as the create left it, whatever happened since', async () => {
      const { service, clock } = setup();
      const request = body({ source: { type: 'rtp' } });
      const created = await service.create(tenantA, request, 'key-1');
      clock.advance(60_000);
      const stopped = await service.execute(tenantA, created.view.id, 'StopRecording');
      expect(stopped.status).toBe('failed'); // stopped before start

      clock.advance(60_000);
      const replay = await service.create(tenantA, request, 'key-1');
      expect(replay.replayed).toBe(true);
      expect(replay.view.status).toBe('requested');
      expect(replay.view).toEqual(created.view);
      expect((await service.get(tenantA, created.view.id)).status).toBe('failed');
    });

    it('a scheduled bot create replays as scheduled (both creation events)', async () => {
      const { service } = setup();
      const request = body({ source: { type: 'bot', meeting_url: 'https://meet.example.com/abc', join_at: '2026-06-01T10:00:00Z' } });
      const created = await service.create(tenantA, request, 'key-bot');
      expect(created.view).toMatchObject({ status: 'scheduled', scheduled_for: '2026-06-01T10:00:00Z', version: 2 });
      await service.system(created.view.id, 'tenant-a', (now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: 'r-1' } }));
      const replay = await service.create(tenantA, request, 'key-bot');
      expect(replay.view).toEqual(created.view);
    });
  });

  describe('get', () => {
    it('returns the recording folded from its stream', async () => {
      const { service } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      expect(await service.get(tenantA, view.id)).toEqual(view);
    });

    it("another tenant's recording is not found", async () => {
      const { service } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      await expect(service.get(tenantB, view.id)).rejects.toBeInstanceOf(RecordingNotFoundError);
    });

    it.each(['rec_123', 'REC_00000000000000000000000001', 'rec_0000000000000000000000000A', 'rec_000000000000000000000000001', '../etc/passwd', ''])(
      'a malformed id (%j) is not found',
      async (id) => {
        const { service } = setup();
        await expect(service.get(tenantA, id)).rejects.toBeInstanceOf(RecordingNotFoundError);
      },
    );

    it('a well-formed id with no stream is not found', async () => {
      const { service } = setup();
      await expect(service.get(tenantA, `rec_${'9'.repeat(26)}`)).rejects.toBeInstanceOf(RecordingNotFoundError);
    });
  });

  describe('events', () => {
    async function fourEvents() {
      const ctx = setup();
      const { view } = await ctx.service.create(tenantA, body({ source: { type: 'rtp' } }));
      const system = (type: 'ClaimRecording' | 'StartRecording' | 'PauseRecording') =>
        ctx.service.system(view.id, 'tenant-a', (now): RecordingCommand =>
          type === 'ClaimRecording'
            ? { type, metadata: { now }, data: { recorder_id: 'r-1' } }
            : type === 'StartRecording'
              ? { type, metadata: { now }, data: {} }
              : { type, metadata: { now }, data: { reason: null } },
        );
      await system('ClaimRecording');
      await system('StartRecording');
      await system('PauseRecording');
      return { ...ctx, id: view.id };
    }

    it('pages by version with after and limit', async () => {
      const { service, id } = await fourEvents();

      const page1 = await service.events(tenantA, id, 0, 2);
      expect(page1.items.map((e) => [e.version, e.type])).toEqual([
        [1, 'RecordingRequested'],
        [2, 'RecordingClaimed'],
      ]);
      expect(page1.hasMore).toBe(true);

      const page2 = await service.events(tenantA, id, 2, 2);
      expect(page2.items.map((e) => [e.version, e.type])).toEqual([
        [3, 'RecordingStarted'],
        [4, 'RecordingPaused'],
      ]);
      expect(page2.hasMore).toBe(false);

      expect(await service.events(tenantA, id, 4, 2)).toEqual({ items: [], hasMore: false });
      expect((await service.events(tenantA, id, 1, 100)).items.map((e) => e.version)).toEqual([2, 3, 4]);
    });

    it("another tenant cannot read a recording's events", async () => {
      const { service, id } = await fourEvents();
      await expect(service.events(tenantB, id, 0, 10)).rejects.toBeInstanceOf(RecordingNotFoundError);
    });
  });

  describe('execute', () => {
    it('pause on a requested recording is an InvalidTransitionError and appends nothing', async () => {
      const { service, store } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      await expect(service.execute(tenantA, view.id, 'PauseRecording', 'break')).rejects.toBeInstanceOf(InvalidTransitionError);
      expect(await store.readStream(view.id)).toHaveLength(1);
    });

    it('returns the view after the command, and a repeat is a no-op', async () => {
      const { service, store, clock } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      clock.advance(1000);
      const deleted = await service.execute(tenantA, view.id, 'DeleteRecording', 'not needed');
      expect(deleted).toMatchObject({ status: 'deleted', version: 2, updated_at: '2026-06-01T09:00:01.000Z' });
      expect(await service.execute(tenantA, view.id, 'DeleteRecording')).toEqual(deleted);
      expect(await store.readStream(view.id)).toHaveLength(2);
    });

    it("another tenant's recording, a missing one and a malformed id are all not found", async () => {
      const { service, store } = setup();
      const { view } = await service.create(tenantA, body({ source: { type: 'rtp' } }));
      await expect(service.execute(tenantB, view.id, 'StopRecording')).rejects.toBeInstanceOf(RecordingNotFoundError);
      await expect(service.execute(tenantA, `rec_${'8'.repeat(26)}`, 'StopRecording')).rejects.toBeInstanceOf(RecordingNotFoundError);
      await expect(service.execute(tenantA, 'not-an-id', 'StopRecording')).rejects.toBeInstanceOf(RecordingNotFoundError);
      expect(await store.readStream(view.id)).toHaveLength(1);
      expect(await store.readStream(`rec_${'8'.repeat(26)}`)).toEqual([]);
    });
  });
});
