/**
 * The compositor job end to end against the real local servers (DynamoDB Local, s3rver) and
 * real ffmpeg: a recorded room's manifest in, every requested output in S3, the recording
 * completed with artifacts; duplicate triggers render nothing; re-composition; failures
 * land as events with blame.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.ts';
import type { RecordingCommand } from '../../shared/recording/commands.ts';
import { isolatedAdapters } from '../../test/support/aws.ts';
import { ffprobe } from '../../test/support/media.ts';
import { recordedRoom } from '../../test/support/recorded-room.ts';
import type { SQSRecord } from 'aws-lambda';
import { createMediaCleanupHandler } from '../../functions/media-cleanup/app.ts';
import { invokeLocally } from '../../local/lambda-context.ts';
import { envelope } from '../../shared/integration/envelope.ts';
import { toIntegrationEvent } from '../../shared/integration/integration-event.ts';
import { recordingProjection } from '../../shared/projections/recording-projection.ts';
import { foldRecording } from '../../shared/recording/view.ts';
import { compositionId } from '../../shared/composition/model.ts';
import { runCompositionJob, type CompositionJobDeps } from './job.ts';

type Adapters = Awaited<ReturnType<typeof isolatedAdapters>>;
let adapters: Adapters;
let dir: string;

beforeAll(async () => {
  adapters = await isolatedAdapters();
  dir = await mkdtemp(join(tmpdir(), 'capstan-job-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const deps = (compositorId: string, extra: Partial<CompositionJobDeps> = {}): CompositionJobDeps => ({
  store: adapters.store,
  service: adapters.service,
  s3: adapters.s3,
  bucket: adapters.config.CAPSTAN_BUCKET,
  logger: silentLogger,
  compositorId,
  leaseSeconds: 600,
  parallelism: 2,
  ...extra,
});

async function put(key: string, body: Buffer, contentType: string) {
  await adapters.s3.send(new PutObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: key, Body: body, ContentType: contentType }));
}
async function get(key: string): Promise<Buffer> {
  const object = await adapters.s3.send(new GetObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** A recording captured by a (simulated) recorder: track files and manifest in S3, capture finished. */
async function capturedRoom(request: Record<string, unknown>, participants: Parameters<typeof recordedRoom>[2], finish = true) {
  const { view } = await adapters.service.create({ tenantId: 'tenant-a' }, { source: { type: 'rtp' }, ...request } as never);
  const prefix = `tenant-a/${view.id}/`;
  const roomDir = await mkdtemp(join(dir, 'room-'));
  const { manifest, files } = await recordedRoom(roomDir, { recording_id: view.id, tenant_id: 'tenant-a', prefix }, participants);
  const system = (make: (now: string) => RecordingCommand) => adapters.service.system(view.id, 'tenant-a', make);
  await system((now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: 'r-1' } }));
  await system((now) => ({ type: 'StartRecording', metadata: { now }, data: {} }));
  await system((now) => ({ type: 'StopRecording', metadata: { now }, data: { reason: 'api' } }));
  for (const file of files) await put(file.track.key, await readFile(file.path), file.track.content_type);
  const manifestKey = `${prefix}manifest.json`;
  const body = Buffer.from(JSON.stringify(manifest));
  await put(manifestKey, body, 'application/json');
  const manifestRef = { key: manifestKey, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
  const finishCapture = () => system((now) => ({ type: 'FinishCapture', metadata: { now }, data: { manifest: manifestRef, duration_seconds: 4 } }));
  if (finish) await finishCapture();
  return { id: view.id, manifest, manifestKey, finishCapture };
}

const trigger = (key: string) => ({ kind: 'manifest' as const, bucket: adapters.config.CAPSTAN_BUCKET, key });
const types = async (id: string) => (await adapters.store.readStream(id)).map((e) => e.type);

describe('the manifest trigger', () => {
  it('renders every requested output, uploads it with its checksum, and completes the recording', { timeout: 120_000 }, async () => {
    const room = await capturedRoom(
      { outputs: ['composite.mp4', 'audio.m4a', 'audio.mp3', 'audio.wav', 'tracks', 'thumbnails'], layout: { preset: 'grid', resolution: '640x360' } },
      [
        { peer_id: 'alice', color: 'red', tone_hz: 440, offset_ms: 0, duration_ms: 4000 },
        { peer_id: 'bob', color: 'blue', tone_hz: 660, offset_ms: 1000, duration_ms: 3000 },
      ],
    );
    const outcome = await runCompositionJob(deps('c-1'), trigger(room.manifestKey));
    expect(outcome.status, JSON.stringify(outcome)).toBe('completed');

    const recording = await adapters.service.get({ tenantId: 'tenant-a' }, room.id);
    expect(recording.status).toBe('completed');
    const names = recording.artifacts.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['manifest.json', 'composite.mp4', 'audio.m4a', 'audio.mp3', 'audio.wav', 'track-trk_alice_audio.m4a', 'track-trk_bob_video.mp4', 'thumbnail-01.jpg']));
    for (const artifact of recording.artifacts.filter((a) => a.composition_id !== undefined)) {
      const body = await get(artifact.key);
      expect(body.length, artifact.name).toBe(artifact.bytes);
      expect(createHash('sha256').update(body).digest('hex'), artifact.name).toBe(artifact.sha256);
    }
    const composite = recording.artifacts.find((a) => a.name === 'composite.mp4')!;
    expect(composite).toMatchObject({ kind: 'composite', content_type: 'video/mp4', codecs: ['h264', 'aac'], resolution: '640x360' });
    expect(composite.duration_seconds).toBeGreaterThan(3.8);
    expect(composite.duration_seconds).toBeLessThan(4.2);
    const local = join(dir, `${room.id}.mp4`);
    await writeFile(local, await get(composite.key));
    const probe = await ffprobe(local);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // faststart: the moov box comes before mdat.
    const head = (await readFile(local)).subarray(0, 64 * 1024).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(0);
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat') === -1 ? Infinity : head.indexOf('mdat'));

    const events = await types(room.id);
    expect(events.filter((t) => t === 'CompositionStarted')).toHaveLength(1);
    expect(events.slice(-2)).toEqual(['CompositionCompleted', 'RecordingCompleted']);
  });

  it('a duplicate trigger, sequential or concurrent, renders nothing more', { timeout: 120_000 }, async () => {
    const room = await capturedRoom({ outputs: ['audio.m4a'], layout: { preset: 'audio_only' } }, [{ peer_id: 'alice', tone_hz: 440, offset_ms: 0, duration_ms: 2000 }]);
    const [a, b] = await Promise.all([runCompositionJob(deps('c-1'), trigger(room.manifestKey)), runCompositionJob(deps('c-2'), trigger(room.manifestKey))]);
    expect([a.status, b.status].sort()).toEqual(['completed', 'skipped']);
    const before = await types(room.id);
    const third = await runCompositionJob(deps('c-3'), trigger(room.manifestKey));
    expect(third).toMatchObject({ status: 'skipped', reason: `composition is completed (${a.status === 'completed' ? 'c-1' : 'c-2'})` });
    expect(await types(room.id)).toEqual(before);
    expect(before.filter((t) => t === 'CompositionStarted')).toHaveLength(1);
  });

  it('completes the recording only once the capture is recorded as stopped, whichever comes first', { timeout: 120_000 }, async () => {
    const room = await capturedRoom({ outputs: ['audio.wav'], layout: { preset: 'audio_only' } }, [{ peer_id: 'alice', tone_hz: 440, offset_ms: 0, duration_ms: 1500 }], false);
    expect((await runCompositionJob(deps('c-1'), trigger(room.manifestKey))).status).toBe('completed');
    expect((await adapters.service.get({ tenantId: 'tenant-a' }, room.id)).status).toBe('stopping');
    await room.finishCapture();
    const recording = await adapters.service.get({ tenantId: 'tenant-a' }, room.id);
    expect(recording.status).toBe('completed');
    expect(recording.artifacts.map((a) => a.name)).toEqual(['manifest.json', 'audio.wav']);
  });
});

describe('re-composition', () => {
  it('renders another layout under its own names, with progress events, and leaves the recording completed', { timeout: 120_000 }, async () => {
    const room = await capturedRoom({ outputs: ['audio.m4a'], layout: { preset: 'audio_only' } }, [
      { peer_id: 'alice', color: 'red', tone_hz: 440, offset_ms: 0, duration_ms: 3000 },
      { peer_id: 'bob', color: 'blue', tone_hz: 660, offset_ms: 0, duration_ms: 3000 },
    ]);
    expect((await runCompositionJob(deps('c-1'), trigger(room.manifestKey))).status).toBe('completed');
    const { composition } = await adapters.service.requestComposition({ tenantId: 'tenant-a' }, room.id, { layout: { preset: 'speaker' }, resolution: '640x360', outputs: ['composite.mp4'] });
    const outcome = await runCompositionJob(deps('c-9'), { kind: 'request', recording_id: room.id, composition_id: composition.id });
    expect(outcome.status, JSON.stringify(outcome)).toBe('completed');
    const recording = await adapters.service.get({ tenantId: 'tenant-a' }, room.id);
    expect(recording.status).toBe('completed');
    const again = recording.compositions.find((c) => c.id === composition.id)!;
    expect(again).toMatchObject({ status: 'completed', initial: false, progress: 100 });
    expect(again.artifacts.map((a) => a.name)).toEqual([`${composition.id}.composite.mp4`]);
    expect(again.artifacts[0]!.key).toBe(`tenant-a/${room.id}/compositions/${composition.id}/composite.mp4`);
    await adapters.s3.send(new HeadObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: again.artifacts[0]!.key }));
    const progress = (await adapters.store.readStream(room.id)).filter((e) => e.type === 'CompositionProgressed' && e.data['composition_id'] === composition.id).map((e) => e.data['percent'] as number);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(progress.every((p) => p % 10 === 0 && p > 0 && p < 100)).toBe(true);
    // The recording's own artifacts stay; the new files are listed beside them.
    expect(recording.artifacts.map((a) => a.name)).toContain('audio.m4a');
  });
});

describe('a compositor that dies', () => {
  it('leaves a composition that asking for it again hands to a new job once its lease lapsed', { timeout: 120_000 }, async () => {
    const room = await capturedRoom({ outputs: ['audio.m4a'], layout: { preset: 'audio_only' } }, [{ peer_id: 'alice', tone_hz: 440, offset_ms: 0, duration_ms: 1000 }]);
    const tenant = { tenantId: 'tenant-a' };
    const spec = { layout: { preset: 'audio_only' as const }, outputs: ['audio.m4a' as const] };
    const composition_id = compositionId(spec);
    // A job took the initial composition with a 1 s lease and died (killed, out of memory…).
    await adapters.service.system(room.id, 'tenant-a', (now) => ({ type: 'StartComposition', metadata: { now }, data: { composition_id, compositor_id: 'c-dead', lease_seconds: 1, request: spec } }));
    // Within the lease, asking again is the same request; a second job is refused.
    expect((await adapters.service.requestComposition(tenant, room.id, spec)).created).toBe(false);
    expect((await runCompositionJob(deps('c-early'), { kind: 'request', recording_id: room.id, composition_id })).status).toBe('skipped');
    await new Promise((r) => setTimeout(r, 1100));
    const again = await adapters.service.requestComposition(tenant, room.id, spec);
    expect(again).toMatchObject({ created: true, composition: { id: composition_id, status: 'requested', initial: true } });
    const outcome = await runCompositionJob(deps('c-next'), { kind: 'request', recording_id: room.id, composition_id });
    expect(outcome.status, JSON.stringify(outcome)).toBe('completed');
    const recording = await adapters.service.get(tenant, room.id);
    expect(recording.status).toBe('completed');
    expect(recording.compositions[0]).toMatchObject({ status: 'completed', attempts: 2, compositor_id: 'c-next' });
  });
});

describe('failures are events with blame', () => {
  it('a renderer failure fails the composition and the recording (capstan, permanent)', { timeout: 60_000 }, async () => {
    const room = await capturedRoom({ outputs: ['audio.m4a'], layout: { preset: 'audio_only' } }, [{ peer_id: 'alice', tone_hz: 440, offset_ms: 0, duration_ms: 1000 }]);
    const outcome = await runCompositionJob(deps('c-1', { render: async () => Promise.reject(new Error('ffmpeg exited with 1: boom')) }), trigger(room.manifestKey));
    expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'render_failed', blame: 'capstan', failure_class: 'permanent' } });
    const recording = await adapters.service.get({ tenantId: 'tenant-a' }, room.id);
    expect(recording.status).toBe('failed');
    expect(recording.failure).toMatchObject({ code: 'composition_failed', blame: 'capstan' });
    expect(recording.compositions[0]).toMatchObject({ status: 'failed', failure: { code: 'render_failed' } });
  });

  it('a manifest with no media fails with the customer to blame', { timeout: 60_000 }, async () => {
    const room = await capturedRoom({ outputs: ['composite.mp4'] }, []);
    const outcome = await runCompositionJob(deps('c-1'), trigger(room.manifestKey));
    expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'no_media', blame: 'customer' } });
    expect((await adapters.service.get({ tenantId: 'tenant-a' }, room.id)).status).toBe('failed');
  });

  /** A completed recording (deletable) and a re-composition requested on it, for the job to run. */
  async function recomposing() {
    const room = await capturedRoom({ outputs: ['audio.m4a'], layout: { preset: 'audio_only' } }, [{ peer_id: 'alice', tone_hz: 440, offset_ms: 0, duration_ms: 1000 }]);
    expect((await runCompositionJob(deps('c-0'), trigger(room.manifestKey))).status).toBe('completed');
    const { composition } = await adapters.service.requestComposition({ tenantId: 'tenant-a' }, room.id, { layout: { preset: 'audio_only' }, outputs: ['audio.mp3'] });
    return { room, request: { kind: 'request' as const, recording_id: room.id, composition_id: composition.id }, composition_id: composition.id };
  }

  it('a recording deleted while it is being composed: the render stops at its next progress report', { timeout: 60_000 }, async () => {
    const { room, request: job } = await recomposing();
    const tenant = { tenantId: 'tenant-a' };
    let aborted = false;
    const render: CompositionJobDeps['render'] = async (request) => {
      await adapters.service.execute(tenant, room.id, 'DeleteRecording');
      request.onProgress?.(0.5);
      // A renderer stops when its signal fires (ffmpeg is killed); this one waits for it.
      await new Promise<void>((_resolve, reject) => request.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      aborted = true;
      return [];
    };
    const outcome = await runCompositionJob(deps('c-1', { render }), job);
    expect(aborted, JSON.stringify(outcome)).toBe(false); // rejected by the abort, never got past it
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'failed', failure: { code: 'recording_deleted', blame: 'customer', failure_class: 'permanent' } });
    const events = await adapters.store.readStream(room.id);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['RecordingDeleted', 'CompositionFailed']);
    expect(events.at(-1)!.data).toMatchObject({ code: 'recording_deleted' });
  });

  it('a recording deleted after its files were uploaded: completion is refused and media cleanup removes them', { timeout: 60_000 }, async () => {
    const { room, request: job, composition_id } = await recomposing();
    const tenant = { tenantId: 'tenant-a' };
    const render: CompositionJobDeps['render'] = async (request) => {
      const path = join(request.workDir, 'audio.mp3');
      await writeFile(path, 'not really audio');
      // The recording goes while the job is between rendering and recording its completion.
      await adapters.service.execute(tenant, room.id, 'DeleteRecording');
      return [{ name: 'audio.mp3', kind: 'audio', path, content_type: 'audio/mpeg', duration_seconds: 1, codecs: ['mp3'], width: null, height: null }];
    };
    const outcome = await runCompositionJob(deps('c-1', { render }), job);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'failed', failure: { code: 'recording_deleted', blame: 'customer' } });
    const uploaded = `tenant-a/${room.id}/compositions/${composition_id}/audio.mp3`;
    await adapters.s3.send(new HeadObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: uploaded }));

    // What the bus carries next: recording.deleted (its cleanup may well have run before the
    // upload), then composition.failed with code recording_deleted, which cleans again.
    const stored = await adapters.store.readStream(room.id);
    await recordingProjection({ readModel: adapters.readModel, store: adapters.store }).apply(stored.at(-1)!); // the publisher projects before it publishes
    const view = foldRecording(stored)!;
    const failed = toIntegrationEvent(stored.at(-1)!, view)!;
    expect(failed).toMatchObject({ type: 'composition.failed', data: { error: { code: 'recording_deleted' } } });
    const cleanup = createMediaCleanupHandler({ s3: adapters.s3, bucket: adapters.config.CAPSTAN_BUCKET, readModel: adapters.readModel, logger: silentLogger });
    const deliver = (event: typeof failed, id: string) => invokeLocally('media-cleanup', cleanup)({ Records: [{ messageId: id, body: JSON.stringify(envelope(event, { id })) } as SQSRecord] });
    // Any other composition failure leaves media alone.
    const otherFailure = { ...failed, data: { ...failed.data, error: { ...(failed.data['error'] as object), code: 'render_failed' } } };
    expect((await deliver(otherFailure, 'm0')).batchItemFailures).toEqual([]);
    await adapters.s3.send(new HeadObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: uploaded }));
    const result = await deliver(failed, 'm1');
    expect(result.batchItemFailures).toEqual([]);
    await expect(adapters.s3.send(new HeadObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: uploaded }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(adapters.s3.send(new HeadObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: room.manifestKey }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('a manifest that is not one fails loudly without touching any recording', async () => {
    await put('tenant-a/rec_x/manifest.json', Buffer.from('{"nope":1}'), 'application/json');
    const outcome = await runCompositionJob(deps('c-1'), trigger('tenant-a/rec_x/manifest.json'));
    expect(outcome).toMatchObject({ status: 'failed', recording_id: null, failure: { code: 'manifest_invalid' } });
  });
});
