/**
 * Compositions and artifacts through the HTTP API handler against the real local servers
 * (DynamoDB Local, s3rver): re-composition requests and their validation, completion with
 * artifacts, presigned downloads with a 302 and Range on the URL, tenant isolation.
 * The compositor itself is driven through the same system commands its job uses.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/auth/api-keys.ts';
import { compositionId } from '../../shared/composition/model.ts';
import { objectKey } from '../../shared/media/keys.ts';
import type { RecordingCommand } from '../../shared/recording/commands.ts';
import { apiDepsFor, isolatedAdapters } from '../../test/support/aws.ts';
import { apiClient, type ApiClient } from '../../test/support/api-client.ts';
import { createApiHandler } from './app.ts';

type Adapters = Awaited<ReturnType<typeof isolatedAdapters>>;
let adapters: Adapters;
let api: ApiClient;
let other: ApiClient;

const COMPOSITE = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

beforeAll(async () => {
  adapters = await isolatedAdapters();
  const keys: Record<string, string> = {};
  for (const tenant of ['tenant-a', 'tenant-b']) {
    keys[tenant] = newApiKey();
    await adapters.apiKeys.put({ key_hash: hashApiKey(keys[tenant]), tenant_id: tenant, created_at: new Date().toISOString() });
  }
  const handler = createApiHandler(apiDepsFor(adapters, { maxBodyBytes: 64 * 1024 }));
  api = apiClient(handler, { apiKey: keys['tenant-a'] });
  other = apiClient(handler, { apiKey: keys['tenant-b'] });
});

async function put(key: string, body: Buffer, contentType: string) {
  await adapters.s3.send(new PutObjectCommand({ Bucket: adapters.config.CAPSTAN_BUCKET, Key: key, Body: body, ContentType: contentType }));
  return key;
}

/** A recording taken to `processing` with a manifest, as the recorder leaves it. */
async function captured(body: Record<string, unknown> = {}) {
  const created = await api.post('/v1/recordings', { source: { type: 'rtp' }, outputs: ['composite.mp4'], ...body });
  expect(created.status, created.body).toBe(201);
  const id = created.json.id as string;
  const system = (make: (now: string) => RecordingCommand) => adapters.service.system(id, 'tenant-a', make);
  await system((now) => ({ type: 'ClaimRecording', metadata: { now }, data: { recorder_id: 'r-1' } }));
  await system((now) => ({ type: 'StartRecording', metadata: { now }, data: {} }));
  await system((now) => ({ type: 'StopRecording', metadata: { now }, data: { reason: 'api' } }));
  const manifestKey = await put(objectKey('{tenant_id}/{recording_id}/{name}', { tenant_id: 'tenant-a', recording_id: id, date: '' }, 'manifest.json'), Buffer.from('{}'), 'application/json');
  await system((now) => ({ type: 'FinishCapture', metadata: { now }, data: { manifest: { key: manifestKey, bytes: 2, sha256: '0'.repeat(64) } } }));
  return { id, system };
}

describe('POST /v1/recordings/{id}/compositions', () => {
  it('201 for a new layout, 200 with the same composition when asked again, listed with its status', async () => {
    const { id } = await captured();
    const body = { layout: { preset: 'speaker' }, resolution: '640x360', outputs: ['composite.mp4', 'thumbnails'] };
    const first = await api.post(`/v1/recordings/${id}/compositions`, body);
    expect(first.status, first.body).toBe(201);
    expect(first.json).toMatchObject({ recording_id: id, status: 'requested', initial: false, trigger: 'api', layout: { preset: 'speaker', resolution: '640x360' }, outputs: ['composite.mp4', 'thumbnails'], progress: 0, artifacts: [] });
    expect(first.headers['location']).toBe(`/v1/recordings/${id}/compositions/${first.json.id}`);
    const again = await api.post(`/v1/recordings/${id}/compositions`, { ...body, outputs: ['thumbnails', 'composite.mp4'] });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    const list = await api.get(`/v1/recordings/${id}/compositions`);
    expect(list.json.items.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([[first.json.id, 'requested']]);
    expect((await api.get(`/v1/recordings/${id}/compositions/${first.json.id}`)).json.id).toBe(first.json.id);
    // The request is an event in the recording's log, for the compositor trigger.
    const events = await api.get(`/v1/recordings/${id}/events`);
    expect(events.json.items.at(-1)).toMatchObject({ type: 'CompositionRequested', data: { composition_id: first.json.id, trigger: 'api', initial: false } });
  });

  it('400 names every bad field of a layout', async () => {
    const { id } = await captured();
    const res = await api.post(`/v1/recordings/${id}/compositions`, {
      layout: { preset: 'custom', resolution: '1280x720', video_layout: { main: { x_pos: 5000, width: 4, reuse: 'sometimes' } } },
      outputs: ['composite.gif'],
    });
    expect(res.status, res.body).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const paths = (res.json.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['layout.video_layout.main.reuse', 'layout.video_layout.main.width', 'outputs.0']));
    const regionsMissing = await api.post(`/v1/recordings/${id}/compositions`, { layout: { preset: 'custom' } });
    expect(regionsMissing.json.errors).toEqual([{ path: 'layout.video_layout', message: 'a custom layout needs at least one region' }]);
    const badResolution = await api.post(`/v1/recordings/${id}/compositions`, { layout: { preset: 'grid' }, resolution: '1281x720' });
    expect(badResolution.json.errors.map((e: { path: string }) => e.path)).toEqual(['resolution']);
  });

  it('409 before there is a manifest; 404 for another tenant or an unknown composition', async () => {
    const created = await api.post('/v1/recordings', { source: { type: 'rtp' } });
    const early = await api.post(`/v1/recordings/${created.json.id}/compositions`, { layout: { preset: 'grid' } });
    expect(early.status).toBe(409);
    expect(early.json.detail).toContain('no manifest yet');
    const { id } = await captured();
    expect((await other.post(`/v1/recordings/${id}/compositions`, { layout: { preset: 'grid' } })).status).toBe(404);
    expect((await other.get(`/v1/recordings/${id}/compositions`)).status).toBe(404);
    expect((await api.get(`/v1/recordings/${id}/compositions/cmp_000000000000000000000000`)).status).toBe(404);
  });
});

describe('completion and artifacts', () => {
  it('completes when the initial composition is final, lists presigned artifacts, and 302s to a URL that honours Range', async () => {
    const { id, system } = await captured({ layout: { preset: 'grid' } });
    const initial = compositionId({ layout: { preset: 'grid' }, outputs: ['composite.mp4'] });
    const key = await put(`tenant-a/${id}/composite.mp4`, COMPOSITE, 'video/mp4');
    await system((now) => ({
      type: 'StartComposition',
      metadata: { now },
      data: { composition_id: initial, compositor_id: 'c-1', lease_seconds: 600, request: { layout: { preset: 'grid' }, outputs: ['composite.mp4'] } },
    }));
    expect((await api.get(`/v1/recordings/${id}`)).json.status).toBe('processing');
    await system((now) => ({
      type: 'CompleteComposition',
      metadata: { now },
      data: {
        composition_id: initial,
        compositor_id: 'c-1',
        duration_seconds: 12.5,
        artifacts: [{ name: 'composite.mp4', kind: 'composite', key, content_type: 'video/mp4', bytes: COMPOSITE.length, duration_seconds: 12.5, sha256: 'ab'.repeat(32), codecs: ['h264', 'aac'], resolution: '1280x720', composition_id: initial }],
      },
    }));

    const recording = (await api.get(`/v1/recordings/${id}`)).json;
    expect(recording.status).toBe('completed');
    expect(recording.artifacts.map((a: { name: string }) => a.name)).toEqual(['manifest.json', 'composite.mp4']);
    expect(recording.artifacts[1]).toEqual({ name: 'composite.mp4', kind: 'composite', content_type: 'video/mp4', bytes: 4096, duration_seconds: 12.5, sha256: 'ab'.repeat(32), codecs: ['h264', 'aac'], resolution: '1280x720', composition_id: initial });
    expect(recording.compositions[0]).toMatchObject({ id: initial, status: 'completed', initial: true, trigger: 'manifest', progress: 100 });

    const listed = await api.get(`/v1/recordings/${id}/artifacts`);
    expect(listed.status).toBe(200);
    const composite = listed.json.items.find((a: { name: string }) => a.name === 'composite.mp4');
    expect(composite).toMatchObject({ bytes: 4096, url: expect.stringContaining(adapters.config.CAPSTAN_BUCKET), url_expires_at: expect.any(String) });
    expect(composite.key).toBeUndefined();
    expect(Date.parse(composite.url_expires_at) - Date.now()).toBeGreaterThan(3500_000);

    const redirect = await api.get(`/v1/recordings/${id}/artifacts/composite.mp4`);
    expect(redirect.status).toBe(302);
    const whole = await fetch(redirect.headers['location']!);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(COMPOSITE);
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="composite.mp4"');
    const ranged = await fetch(redirect.headers['location']!, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe('bytes 100-199/4096');
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(COMPOSITE.subarray(100, 200));

    expect((await api.get(`/v1/recordings/${id}/artifacts/nope.mp4`)).status).toBe(404);
    expect((await other.get(`/v1/recordings/${id}/artifacts/composite.mp4`)).status).toBe(404);
  });
});
