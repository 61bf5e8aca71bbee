/**
 * The recorder against harder peers than a clean ffmpeg: GStreamer through a seeded impairment
 * proxy (loss, reordering, duplicates counted exactly), sequence and timestamp wraps, ffmpeg
 * registered by its own SDP (SSRC latching, sender-report sync), a late registration of an
 * SSRC already sending plus the room timeline, and a million hostile datagrams on a live port.
 * One `npm start` runtime for the file; each test makes its own recording.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../shared/aws/clients.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema, type Manifest, type ManifestTrack } from '../../shared/recording/manifest.ts';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from '../support/runtime-process.ts';
import { decodeErrors, ffprobe, runToEnd } from '../support/media.ts';
import { startImpairmentProxy } from '../support/impairment-proxy.ts';
import { gstOpusArgs, gstVp8Args, startGst } from '../support/gstreamer.ts';
import { blast, fuzzDatagrams, udpSocketState } from '../support/rtp-fuzz.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-peers-e2e-'));
const workDir = mkdtempSync(join(tmpdir(), 'capstan-peers-files-'));
const KEY = 'rec-peers-key-0123456789abcdef';
const HOST = '127.0.0.1';
let runtime: RuntimeProcess;
let recorderUrl: string;
let s3: S3Client;
let api: ReturnType<typeof http>;

beforeAll(async () => {
  runtime = await startRuntimeProcess({
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_DEV_API_KEY: KEY,
    // The recorder alone: recordings stay in `processing` (the compositor has its own e2e).
    CAPSTAN_COMPOSITOR_ENABLED: 'false',
    CAPSTAN_RECORDER_PORT_RANGE: '42000-42199',
    CAPSTAN_RECORDER_SEGMENT_SECONDS: '2',
    CAPSTAN_STREAM_POLL_MS: '20',
  });
  const ready = JSON.parse(runtime.stdout().split('\n').find((l) => l.includes('capstan local runtime ready'))!) as { s3: string; recorder: string };
  recorderUrl = ready.recorder;
  expect(recorderUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  s3 = s3Client({ AWS_REGION: 'us-east-1', CAPSTAN_S3_ENDPOINT: ready.s3 });
  api = http(runtime.url, KEY);
});

afterAll(async () => {
  await runtime?.stop('SIGTERM').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

async function getObject(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: 'capstan-media', Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function download(key: string): Promise<string> {
  const path = join(workDir, key.replaceAll('/', '_'));
  writeFileSync(path, await getObject(key));
  return path;
}

/** Create an rtp recording and wait until a recorder captures it; returns its id and ingest port. */
async function liveRecording(name: string): Promise<{ id: string; port: number }> {
  const created = await api('POST', '/v1/recordings', { source: { type: 'rtp', room_id: `room-${name}` }, recording_name: name });
  expect(created.status).toBe(201);
  const id = created.json!['id'] as string;
  const live = await eventually(async () => {
    const r = await api('GET', `/v1/recordings/${id}`);
    return r.json!['status'] === 'recording' ? r.json! : undefined;
  }, 30_000);
  const { port } = live['ingest'] as { port: number };
  expect(port).toBeGreaterThanOrEqual(42000);
  expect(port).toBeLessThanOrEqual(42199);
  return { id, port };
}

/** Stop by API and read the manifest back from S3. */
async function stopAndReadManifest(id: string): Promise<Manifest> {
  expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
  const done = await eventually(async () => {
    const r = await api('GET', `/v1/recordings/${id}`);
    return r.json!['status'] === 'processing' && r.json!['manifest'] ? r.json! : undefined;
  }, 60_000);
  return ManifestSchema.parse(JSON.parse((await getObject((done['manifest'] as { key: string }).key)).toString()));
}

function trackOf(manifest: Manifest, ssrc: number): ManifestTrack {
  const track = manifest.tracks.find((t) => t.ssrc === ssrc);
  expect(track, `a track with SSRC ${ssrc} in ${JSON.stringify(manifest.tracks.map((t) => t.ssrc))}`).toBeDefined();
  return track!;
}

const seconds = (fromIso: string, toIso: string) => (Date.parse(toIso) - Date.parse(fromIso)) / 1000;

/** Prometheus text → sample value by `name{labels}`. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('recorder with GStreamer and ffmpeg peers', () => {
  it('counts exactly the loss, duplicates and reordering a seeded impairment proxy applied, and still writes playable files', async () => {
    const { id, port } = await liveRecording('impaired');
    const AUDIO = 3333;
    const VIDEO = 4444;
    const registered = await api('POST', `/v1/recordings/${id}/tracks`, {
      tracks: [
        { ssrc: AUDIO, payload_type: 97, codec: 'opus', peer_id: 'carol', track_type: 'microphone' },
        { ssrc: VIDEO, payload_type: 96, codec: 'vp8', peer_id: 'carol', track_type: 'camera' },
      ],
    });
    expect(registered.status).toBe(201);
    const proxy = await startImpairmentProxy({ seed: 0x5eed_c0de, target: { host: HOST, port } });
    try {
      // ~5.3 s of Opus and 5 s of VP8 (a keyframe every 3 frames, so a frame lost to the proxy
      // costs at most 100 ms of picture at either end), in parallel through the proxy.
      await Promise.all([
        runToEnd('gst-launch-1.0', gstOpusArgs({ host: HOST, port: proxy.rtpPort, ssrc: AUDIO, pt: 97 }, { buffers: 250 })),
        runToEnd('gst-launch-1.0', gstVp8Args({ host: HOST, port: proxy.rtpPort, ssrc: VIDEO, pt: 96 }, { frames: 150, keyframeEvery: 3 })),
      ]);
    } finally {
      await proxy.close();
    }
    const manifest = await stopAndReadManifest(id);
    expect(manifest.tracks).toHaveLength(2);
    for (const [ssrc, codec] of [[AUDIO, 'opus'], [VIDEO, 'vp8']] as const) {
      const sent = proxy.report(ssrc)!;
      const track = trackOf(manifest, ssrc);
      const summary = { ssrc, received: sent.received, forwarded: sent.forwarded, dropped: sent.dropped.length, expectedLost: proxy.expectedLost(ssrc), duplicated: sent.duplicated.length, reordered: sent.reordered.length, stats: track.stats, duration: track.duration_seconds };
      console.log(`impaired ${codec}: ${JSON.stringify(summary)}`);
      // The proxy really impaired this stream (≈ 5 % / 10 % / 1 % of 200–270 packets).
      expect(sent.dropped.length, JSON.stringify(summary)).toBeGreaterThan(0);
      expect(sent.reordered.length, JSON.stringify(summary)).toBeGreaterThan(0);
      expect(sent.duplicated.length, JSON.stringify(summary)).toBeGreaterThan(0);
      // Drops before the first or after the last forwarded packet look like the stream's ends.
      expect(track.stats.lost, JSON.stringify(summary)).toBe(proxy.expectedLost(ssrc));
      expect(track.stats.duplicates, JSON.stringify(summary)).toBe(sent.duplicated.length);
      expect(track.stats.reordered, JSON.stringify(summary)).toBe(sent.reordered.length);
      expect(track.stats.reordered).toBeGreaterThan(0);
      expect(track.stats.packets, JSON.stringify(summary)).toBe(sent.forwarded);
      expect(track.gaps.reduce((n, g) => n + g.missing, 0)).toBe(track.stats.lost);
      expect(track.start_time_source).toBe('arrival'); // udpsink sends no RTCP
      const path = await download(track.key);
      const probe = await ffprobe(path);
      expect(probe.streams[0]!.codec_name).toBe(codec);
      const sendingSeconds = (sent.lastForwardedAtMs - sent.firstForwardedAtMs) / 1000;
      expect(Math.abs(Number(probe.format.duration) - sendingSeconds), `${codec}: file ${probe.format.duration} s, sent for ${sendingSeconds} s`).toBeLessThan(0.5);
    }
  });

  it('records through a sequence-number wrap and an RTP timestamp wrap with nothing lost', async () => {
    const { id, port } = await liveRecording('wraps');
    const SSRC = 5555;
    expect((await api('POST', `/v1/recordings/${id}/tracks`, { tracks: [{ ssrc: SSRC, payload_type: 97, codec: 'opus' }] })).status).toBe(201);
    // 141 buffers of 1024 samples = 3.0 s; the sequence wraps after 36 packets, the timestamp after ≈ 150 ms.
    await runToEnd('gst-launch-1.0', gstOpusArgs({ host: HOST, port, ssrc: SSRC, pt: 97 }, { buffers: 141, seqnumOffset: 65500, timestampOffset: 4294960000 }));
    const manifest = await stopAndReadManifest(id);
    const track = trackOf(manifest, SSRC);
    expect(track.stats).toMatchObject({ lost: 0, duplicates: 0, reordered: 0 });
    expect(track.stats.packets).toBeGreaterThan(140);
    expect(track.gaps).toEqual([]);
    expect(track.first_sequence).toBe(65500);
    expect(track.first_rtp_timestamp).toBeGreaterThanOrEqual(4294960000);
    expect(track.first_rtp_timestamp).toBeLessThan(2 ** 32);
    const arrivalSeconds = seconds(track.first_packet_at, track.last_packet_at);
    expect(Math.abs(track.duration_seconds - 3.008)).toBeLessThan(0.5);
    expect(Math.abs(track.duration_seconds - arrivalSeconds)).toBeLessThan(0.5);
    const path = await download(track.key);
    const probe = await ffprobe(path);
    expect(probe.streams[0]!.codec_name).toBe('opus');
    expect(Math.abs(Number(probe.format.duration) - 3.008)).toBeLessThan(0.5);
    expect(await decodeErrors(path)).toBe('');
  });

  it('registers ffmpeg by its SDP, latches its SSRCs, and aligns audio and video by its sender reports', async () => {
    const { id, port } = await liveRecording('sdp');
    const ssrcs = { audio: 0x1234_5678, video: 0x0abc_def0 };
    const args = (target: number, duration: number, startUs: number, extra: string[] = []) => [
      '-hide_banner', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${duration}`,
      '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${duration}`,
      '-map', '0:a', '-c:a', 'libopus', '-payload_type', '97', '-ssrc', String(ssrcs.audio),
      '-start_time_realtime', String(startUs), '-avoid_negative_ts', 'disabled', '-f', 'rtp', `rtp://${HOST}:${target}`,
      '-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', '-payload_type', '96', '-ssrc', String(ssrcs.video),
      '-start_time_realtime', String(startUs), '-f', 'rtp', `rtp://${HOST}:${target}`,
      ...extra,
    ];
    // A 0.1 s dry run into a local sink writes the SDP the real run will use (only the port differs).
    const sink = createSocket('udp4');
    sink.bind(0, HOST);
    await once(sink, 'listening');
    const sdpPath = join(workDir, 'ffmpeg.sdp');
    try {
      await runToEnd('ffmpeg', args(sink.address().port, 0.1, Date.now() * 1000, ['-sdp_file', sdpPath]));
    } finally {
      sink.close();
    }
    const sdp = readFileSync(sdpPath, 'utf8');
    expect(sdp).toMatch(/a=rtpmap:97 opus\/48000\/2/);
    expect(sdp).toMatch(/a=rtpmap:96 VP8\/90000/);
    expect(sdp).not.toMatch(/a=ssrc:/);
    const response = await fetch(`${runtime.url}/v1/recordings/${id}/tracks`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/sdp' }, body: sdp });
    const body = (await response.json()) as { items: { track_id: string; ssrc: number | null; codec: string; payload_type: number }[] };
    expect(response.status, JSON.stringify(body)).toBe(201);
    expect(body.items.map((t) => [t.codec, t.payload_type, t.ssrc]).sort()).toEqual([['opus', 97, null], ['vp8', 96, null]]);
    // Let the recorder pick up the registration before the first packet, then send 4 s.
    await new Promise((r) => setTimeout(r, 500));
    await runToEnd('ffmpeg', args(port, 4, Date.now() * 1000));
    const manifest = await stopAndReadManifest(id);
    expect(manifest.tracks).toHaveLength(2);
    const audio = manifest.tracks.find((t) => t.codec === 'opus')!;
    const videoTrack = manifest.tracks.find((t) => t.codec === 'vp8')!;
    // Each registration without an SSRC latched the stream with its payload type.
    expect(audio.ssrc).toBe(ssrcs.audio);
    expect(videoTrack.ssrc).toBe(ssrcs.video);
    expect(audio.track_id).toBe(body.items.find((t) => t.codec === 'opus')!.track_id);
    expect(manifest.silent_tracks).toEqual([]);
    for (const track of [audio, videoTrack]) {
      expect(track.start_time_source).toBe('rtcp_sender_report');
      expect(track.rtp_ntp_mappings.length).toBeGreaterThan(0);
      expect(track.stats.lost).toBe(0);
      const path = await download(track.key);
      const probe = await ffprobe(path);
      expect(probe.streams[0]!.codec_name).toBe(track.codec);
      expect(Math.abs(Number(probe.format.duration) - 4)).toBeLessThan(0.5);
      expect(await decodeErrors(path)).toBe('');
    }
    // One -start_time_realtime for both outputs: their first samples are ≈ simultaneous by the sender's clock.
    const skewMs = Math.abs(Date.parse(audio.start_time) - Date.parse(videoTrack.start_time));
    console.log(`sdp: audio ${audio.start_time}, video ${videoTrack.start_time}, skew ${skewMs} ms`);
    expect(skewMs).toBeLessThan(50);
    expect(Math.abs(audio.offset_ms - videoTrack.offset_ms)).toBeLessThan(50);
  });

  it('keeps the audio an SSRC sent before it was registered, and records the room timeline in order', async () => {
    const { id, port } = await liveRecording('late');
    const SSRC = 6666;
    const unknownBefore = parseMetrics(await (await fetch(`${recorderUrl}/metrics`)).text()).get('capstan_recorder_packets_unknown_ssrc_total')!;
    const sendingStartedAt = Date.now();
    // 3.0 s of Opus before anyone registers the SSRC: the recorder holds it (10 s by default).
    await runToEnd('gst-launch-1.0', gstOpusArgs({ host: HOST, port, ssrc: SSRC, pt: 97 }, { buffers: 141 }));
    const registeredAt = Date.now();
    const metrics = parseMetrics(await (await fetch(`${recorderUrl}/metrics`)).text());
    expect(metrics.get('capstan_recorder_packets_unknown_ssrc_total')! - unknownBefore).toBeGreaterThanOrEqual(140);
    expect((await api('POST', `/v1/recordings/${id}/tracks`, { tracks: [{ ssrc: SSRC, payload_type: 97, codec: 'opus', peer_id: 'dave', display_name: 'Dave' }] })).status).toBe(201);
    const at = (ms: number) => new Date(sendingStartedAt + ms).toISOString();
    const events = [
      { type: 'peer_joined', peer_id: 'dave', display_name: 'Dave', at: at(0) },
      { type: 'active_speaker', peer_id: 'dave', at: at(400) },
      { type: 'producer_paused', peer_id: 'dave', ssrc: SSRC, at: at(1200) },
      { type: 'producer_resumed', peer_id: 'dave', ssrc: SSRC, at: at(1800) },
      { type: 'peer_left', peer_id: 'dave', at: at(3100) },
    ];
    expect((await api('POST', `/v1/recordings/${id}/room-events`, { events })).status).toBe(201);
    const manifest = await stopAndReadManifest(id);
    const track = trackOf(manifest, SSRC);
    expect(track.peer_id).toBe('dave');
    // The first packet is the held one from the start of sending, long before the registration.
    expect(Date.parse(track.first_packet_at)).toBeLessThan(registeredAt - 2500);
    expect(track.stats).toMatchObject({ lost: 0, duplicates: 0 });
    expect(track.stats.packets).toBeGreaterThan(140);
    expect(Math.abs(track.duration_seconds - 3.008)).toBeLessThan(0.5);
    expect(Math.abs(track.duration_seconds - seconds(track.first_packet_at, track.last_packet_at))).toBeLessThan(0.5);
    const path = await download(track.key);
    expect(Math.abs(Number((await ffprobe(path)).format.duration) - 3.008)).toBeLessThan(0.5);
    expect(await decodeErrors(path)).toBe('');
    expect(manifest.timeline.map((e) => [e['type'], e['at']])).toEqual(events.map((e) => [e.type, e.at]));
    expect(manifest.timeline[2]).toMatchObject({ type: 'producer_paused', peer_id: 'dave', ssrc: SSRC });
  });

  it('survives a million malformed datagrams on a live port: health and metrics answer, the clean stream is whole', async () => {
    const { id, port } = await liveRecording('fuzz');
    const SSRC = 7777;
    expect((await api('POST', `/v1/recordings/${id}/tracks`, { tracks: [{ ssrc: SSRC, payload_type: 97, codec: 'opus' }] })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 500));
    const clean = startGst(gstOpusArgs({ host: HOST, port, ssrc: SSRC, pt: 97 }));
    let result: Awaited<ReturnType<typeof blast>>;
    const fuzz = fuzzDatagrams({ seed: 0xf022, avoidSsrcs: [SSRC] });
    try {
      // The stream whose SSRC will change starts before the blast and is latched by a registration without SSRC.
      await blast({ host: HOST, port, total: 50, next: fuzz.change.packet });
      const latchable = await api('POST', `/v1/recordings/${id}/tracks`, { tracks: [{ payload_type: fuzz.change.payloadType, codec: 'opus', peer_id: 'fuzzer' }] });
      expect(latchable.status).toBe(201);
      await new Promise((r) => setTimeout(r, 1000));
      result = await blast({ host: HOST, port, total: 1_000_000, next: fuzz.next });
      await new Promise((r) => setTimeout(r, 1000));
      const health = await fetch(`${recorderUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', sessions: 1 });
      const metrics = parseMetrics(await (await fetch(`${recorderUrl}/metrics`)).text());
      const dropped = (reason: string) => metrics.get(`capstan_recorder_packets_dropped_total{reason="${reason}"}`) ?? 0;
      for (const reason of ['too_short', 'bad_version', 'csrc_overflow', 'extension_overflow', 'bad_padding', 'oversized']) expect(dropped(reason), reason).toBeGreaterThan(0);
      expect(dropped('unknown_ssrc_overflow')).toBeGreaterThan(0);
      expect(metrics.get('capstan_recorder_packets_unknown_ssrc_total')).toBeGreaterThan(0);
      expect(metrics.get('capstan_recorder_rtcp_muxed_total')).toBeGreaterThan(0);
      expect(metrics.get('capstan_recorder_ssrc_changes_total')).toBeGreaterThan(0);
      // A fresh SSRC in every other datagram must not cost memory per SSRC (it once cost 16 KiB each: 3 GB here).
      const rssBytes = metrics.get('capstan_recorder_process_resident_memory_bytes')!;
      expect(rssBytes, `recorder RSS ${Math.round(rssBytes / 2 ** 20)} MiB`).toBeLessThan(768 * 2 ** 20);
      expect(clean.child.exitCode, clean.stderr()).toBeNull(); // still sending
    } finally {
      await clean.stop();
    }
    console.log(`fuzz: ${JSON.stringify({ ...result, counts: fuzz.counts, socket: udpSocketState(port) })}`);
    const manifest = await stopAndReadManifest(id);
    expect(manifest.counters['datagrams']).toBeGreaterThanOrEqual(result.datagrams - result.kernelDrops);
    // The clean track, and the latched one (its first SSRC only: the change is not followed).
    expect(manifest.tracks.map((t) => t.ssrc).sort()).toEqual([SSRC, fuzz.change.before].sort());
    expect(manifest.counters['ssrc_changes']).toBeGreaterThan(0);
    const track = trackOf(manifest, SSRC);
    // Paced on the receiver's queue, the kernel dropped nothing; if it ever did, loss is bounded by it.
    expect(track.stats.lost).toBeLessThanOrEqual(result.kernelDrops);
    expect(track.stats.duplicates).toBe(0);
    const arrivalSeconds = seconds(track.first_packet_at, track.last_packet_at);
    expect(arrivalSeconds).toBeGreaterThan(result.ms / 1000);
    expect(Math.abs(track.duration_seconds - arrivalSeconds)).toBeLessThan(0.5);
    const path = await download(track.key);
    expect((await ffprobe(path)).streams[0]!.codec_name).toBe('opus');
    expect(await decodeErrors(path)).toBe('');
  });
});
