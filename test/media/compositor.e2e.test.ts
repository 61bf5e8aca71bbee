/**
 * The compositor end to end, as users run it: `npm start` (API, publisher, recorder child,
 * s3rver notifications → the compositor task runner), real GStreamer peers sending Opus and
 * VP8 RTP through a seeded impairment proxy, and the composite downloaded through the
 * artifacts API's 302 and measured with ffmpeg.
 *
 * - Sync: a beep-and-flash pattern; every flash's beep in composite.mp4 within 40 ms.
 * - A room: three participants with staggered joins, one leaving early, and the recording
 *   paused for a while → the composite's length is the capture minus the pause (± 0.5 s),
 *   and the grid shows 1, 2, 3, then 2 tiles at the right times.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../shared/recording/manifest.ts';
import { beepFlashSsrcs, beepFlashTracks, startBeepFlashSender, type BeepFlashSender } from '../support/beep-flash.ts';
import { startImpairmentProxy } from '../support/impairment-proxy.ts';
import { ffprobe, runToEnd } from '../support/media.ts';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from '../support/runtime-process.ts';
import { measureAvSync } from '../support/sync-analysis.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-cmp-e2e-'));
const workDir = mkdtempSync(join(tmpdir(), 'capstan-cmp-files-'));
const KEY = 'cmp-e2e-key-0123456789abcdef';
let runtime: RuntimeProcess;
let api: ReturnType<typeof http>;
const senders: BeepFlashSender[] = [];

beforeAll(async () => {
  runtime = await startRuntimeProcess({
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_DEV_API_KEY: KEY,
    CAPSTAN_RECORDER_PORT_RANGE: '45000-45099',
    CAPSTAN_RECORDER_SEGMENT_SECONDS: '2',
    CAPSTAN_STREAM_POLL_MS: '20',
    CAPSTAN_COMPOSITOR_CONCURRENCY: '1',
  });
  api = http(runtime.url, KEY);
}, 120_000);

afterAll(async () => {
  await Promise.all(senders.map((s) => s.stop().catch(() => undefined)));
  await runtime?.stop('SIGTERM').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

async function recordingWithIngest(body: Record<string, unknown>): Promise<{ id: string; host: string; port: number }> {
  const created = await api('POST', '/v1/recordings', { source: { type: 'rtp', room_id: 'room-e2e' }, ...body });
  expect(created.status).toBe(201);
  const id = created.json!['id'] as string;
  const live = await eventually(async () => {
    const r = await api('GET', `/v1/recordings/${id}`);
    return r.json!['status'] === 'recording' ? r.json! : undefined;
  }, 30_000);
  const ingest = live['ingest'] as { host: string; port: number };
  return { id, host: ingest.host, port: ingest.port };
}

async function completed(id: string): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const r = await api('GET', `/v1/recordings/${id}`);
    if (r.json!['status'] === 'failed') throw new Error(`recording failed: ${JSON.stringify(r.json!['failure'])}`);
    return r.json!['status'] === 'completed' ? r.json! : undefined;
  }, 180_000);
}

/** Download an artifact the way a user does: the API's 302, then the presigned URL. */
async function download(id: string, name: string): Promise<string> {
  const redirect = await fetch(`${runtime.url}/v1/recordings/${id}/artifacts/${name}`, { headers: { authorization: `Bearer ${KEY}` }, redirect: 'manual' });
  expect(redirect.status).toBe(302);
  const file = await fetch(redirect.headers.get('location')!);
  expect(file.status).toBe(200);
  const path = join(workDir, `${id}-${name}`);
  writeFileSync(path, Buffer.from(await file.arrayBuffer()));
  return path;
}

describe('compositor through npm start', () => {
  it('composes a beep-and-flash recording with audio and video within 40 ms, triggered by the manifest', { timeout: 240_000 }, async () => {
    const { id, host, port } = await recordingWithIngest({ outputs: ['composite.mp4', 'audio.m4a', 'thumbnails'], layout: { preset: 'grid', resolution: '640x360' } });
    const ssrcs = beepFlashSsrcs();
    expect((await api('POST', `/v1/recordings/${id}/tracks`, { tracks: beepFlashTracks(ssrcs, { peer_id: 'flash' }) })).status).toBe(201);
    const proxy = await startImpairmentProxy({ seed: 4242, loss: 0.02, reorder: 0.05, duplicate: 0.01, target: { host, port } });
    try {
      const sender = await startBeepFlashSender({ durationS: 8, host: '127.0.0.1', rtpPort: proxy.rtpPort, rtcpPort: proxy.rtcpPort, ssrcs });
      senders.push(sender);
      await sender.wait();
    } finally {
      await proxy.close();
    }
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const recording = await completed(id);

    const names = (recording['artifacts'] as { name: string }[]).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['manifest.json', 'composite.mp4', 'audio.m4a', 'thumbnail-01.jpg']));
    const compositions = recording['compositions'] as { trigger: string; status: string; initial: boolean }[];
    expect(compositions).toEqual([expect.objectContaining({ trigger: 'manifest', status: 'completed', initial: true })]);
    const events = (await api('GET', `/v1/recordings/${id}/events?limit=1000`)).json!['items'] as { type: string }[];
    expect(events.filter((e) => e.type === 'CompositionStarted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'CompositionProgressed').length).toBeGreaterThanOrEqual(1);

    const composite = await download(id, 'composite.mp4');
    const probe = await ffprobe(composite);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const sync = await measureAvSync(composite);
    console.log(`composite A/V offsets (ms): ${sync.pairs.map((p) => p.offset_ms.toFixed(1)).join(', ')}; max |offset| ${sync.max_abs_offset_ms?.toFixed(1)} ms`);
    expect(sync.pairs.length).toBeGreaterThanOrEqual(3);
    expect(sync.max_abs_offset_ms!).toBeLessThanOrEqual(40);

    // Re-composition through the API: another layout and size, its own files, the recording stays completed.
    const again = await api('POST', `/v1/recordings/${id}/compositions`, { layout: { preset: 'single' }, resolution: '320x180', outputs: ['composite.mp4'] });
    expect(again.status).toBe(201);
    const cid = again.json!['id'] as string;
    const done = await eventually(async () => {
      const r = await api('GET', `/v1/recordings/${id}/compositions/${cid}`);
      if (r.json!['status'] === 'failed') throw new Error(`re-composition failed: ${JSON.stringify(r.json!['failure'])}`);
      return r.json!['status'] === 'completed' ? r.json! : undefined;
    }, 120_000);
    expect(done).toMatchObject({ trigger: 'api', initial: false, progress: 100 });
    const recomposed = await download(id, `${cid}.composite.mp4`);
    expect((await ffprobe(recomposed)).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 320, height: 180 });
    expect((await api('GET', `/v1/recordings/${id}`)).json!['status']).toBe('completed');
  });

  it('lays out a room with staggered joins, an early leave and a pause', { timeout: 300_000 }, async () => {
    const { id, host, port } = await recordingWithIngest({ outputs: ['composite.mp4'], layout: { preset: 'grid', resolution: '640x360' } });
    const people = [
      { peer: 'ann', color: '0xC00000', joinS: 0, seconds: 14 },
      { peer: 'ben', color: '0x00C000', joinS: 3, seconds: 11 },
      { peer: 'cat', color: '0x0000C0', joinS: 5, seconds: 5 },
    ] as const;
    const ssrcs = people.map(() => beepFlashSsrcs());
    const tracks = people.flatMap((p, i) => beepFlashTracks(ssrcs[i]!, { peer_id: p.peer, display_name: p.peer }));
    expect((await api('POST', `/v1/recordings/${id}/tracks`, { tracks })).status).toBe(201);
    const proxy = await startImpairmentProxy({ seed: 7, loss: 0, reorder: 0.02, duplicate: 0.01, target: { host, port } });
    const t0 = Date.now();
    const at = (s: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - Date.now())));
    try {
      const running = people.map(async (p, i) => {
        await at(p.joinS);
        await api('POST', `/v1/recordings/${id}/room-events`, { events: [{ type: 'peer_joined', peer_id: p.peer }] });
        // No flashes (the first is after the end): each participant is one solid colour.
        const sender = await startBeepFlashSender({ durationS: p.seconds, periodS: 60, background: p.color, width: 320, height: 180, host: '127.0.0.1', rtpPort: proxy.rtpPort, rtcpPort: proxy.rtcpPort, ssrcs: ssrcs[i]! });
        senders.push(sender);
        await sender.wait();
        console.log(`${p.peer} sent for ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await api('POST', `/v1/recordings/${id}/room-events`, { events: [{ type: 'peer_left', peer_id: p.peer }] });
      });
      await at(7);
      expect((await api('POST', `/v1/recordings/${id}/pause`)).status).toBe(202);
      await at(9);
      expect((await api('POST', `/v1/recordings/${id}/resume`)).status).toBe(202);
      await Promise.all(running);
    } finally {
      await proxy.close();
    }
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    console.log('stopped');
    await completed(id);

    // Expected times come from the manifest's own sync data: the composite must follow it.
    const manifest = JSON.parse(await readFile(await download(id, 'manifest.json'), 'utf8')) as Manifest;
    const ref = Date.parse(manifest.reference_time!);
    const paused = manifest.paused_spans.map((s) => ({ from: Date.parse(s.from) - ref, to: Date.parse(s.to ?? manifest.stopped_at) - ref }));
    expect(paused).toHaveLength(1);
    const pausedMs = paused[0]!.to - paused[0]!.from;
    expect(pausedMs).toBeGreaterThan(1500);
    const video = (peer: string) => manifest.tracks.find((t) => t.peer_id === peer && t.kind === 'video')!;
    const span = (peer: string) => ({ from: video(peer).offset_ms, to: video(peer).offset_ms + video(peer).duration_seconds * 1000 });
    const captureEnd = Math.max(...manifest.tracks.map((t) => t.offset_ms + t.duration_seconds * 1000));
    /** Source time (ms since the reference) → composite time (s), with the pause cut out. */
    const out = (sourceMs: number) => (sourceMs - (sourceMs > paused[0]!.to ? pausedMs : 0)) / 1000;

    // Each participant's recorded tracks last as long as they sent (± 0.5 s). No loss on this
    // path (reordering and duplicates only): a lost first keyframe would legitimately cost a
    // camera its first second, which the sync test covers.
    for (const p of people) {
      for (const t of manifest.tracks.filter((x) => x.peer_id === p.peer)) {
        expect(Math.abs(t.duration_seconds - p.seconds), `${p.peer} ${t.kind} lasted ${t.duration_seconds} s`).toBeLessThanOrEqual(0.5);
      }
    }
    const composite = await download(id, 'composite.mp4');
    const duration = Number((await ffprobe(composite)).format.duration);
    expect(Math.abs(duration - (captureEnd - pausedMs) / 1000), `composite ${duration} s`).toBeLessThanOrEqual(0.5);

    // What the grid shows, sampled inside each phase (away from its edges).
    const phases = [
      { name: 'ann alone', at: (span('ann').from + span('ben').from) / 2, tiles: { ann: [320, 180] } },
      { name: 'ann and ben side by side', at: (span('ben').from + span('cat').from) / 2, tiles: { ann: [160, 180], ben: [480, 180] } },
      { name: 'three in a 2×2 grid, last row centred', at: (span('cat').from + paused[0]!.from) / 2, tiles: { ann: [160, 90], ben: [480, 90], cat: [320, 270] } },
      { name: 'cat left: two again', at: (span('cat').to + captureEnd) / 2, tiles: { ann: [160, 180], ben: [480, 180] } },
    ];
    const expected: Record<string, [number, number, number]> = { ann: [0xc0, 0, 0], ben: [0, 0xc0, 0], cat: [0, 0, 0xc0] };
    for (const phase of phases) {
      const frame = await frameAt(composite, out(phase.at));
      for (const [peer, [x, y]] of Object.entries(phase.tiles)) {
        const [r, g, b] = pixel(frame, x, y);
        const [er, eg, eb] = expected[peer]!;
        expect(Math.abs(r - er) + Math.abs(g - eg) + Math.abs(b - eb), `${phase.name}: ${peer} at ${x},${y} is rgb(${r},${g},${b})`).toBeLessThan(90);
      }
      if (Object.keys(phase.tiles).length === 2) {
        // Side by side means letterboxed: the top of the frame is background, not a tile.
        const [r, g, b] = pixel(frame, 320, 20);
        expect(r + g + b, `${phase.name}: letterbox`).toBeLessThan(60);
      }
    }
  });
});

/** One decoded frame at `seconds` as raw RGB24, 640×360. */
async function frameAt(file: string, seconds: number): Promise<Buffer> {
  const path = join(workDir, `frame-${seconds.toFixed(3)}-${Math.random().toString(36).slice(2)}.rgb`);
  await runToEnd('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-ss', seconds.toFixed(3), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '640x360', path]);
  return readFile(path);
}

function pixel(frame: Buffer, x: number, y: number): [number, number, number] {
  const i = (y * 640 + x) * 3;
  return [frame[i]!, frame[i + 1]!, frame[i + 2]!];
}
