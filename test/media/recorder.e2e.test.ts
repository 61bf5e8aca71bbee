/**
 * The recorder end to end, as users run it: `npm start` (API + publisher + recorder child),
 * a recording created over HTTP, a real ffmpeg peer sending Opus and VP8 RTP with RTCP, stop
 * by API, then the per-track files and the manifest read back from S3 and checked with ffprobe.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../shared/aws/clients.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../shared/recording/manifest.ts';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from '../support/runtime-process.ts';
import { decodeErrors, ffmpegOpusVp8Args, ffprobe, runToEnd } from '../support/media.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-rec-e2e-'));
const workDir = mkdtempSync(join(tmpdir(), 'capstan-rec-files-'));
const KEY = 'rec-e2e-key-0123456789abcdef';
let runtime: RuntimeProcess;
let s3: S3Client;

beforeAll(async () => {
  runtime = await startRuntimeProcess({
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_DEV_API_KEY: KEY,
    // The recorder alone: recordings stay in `processing` (the compositor has its own e2e).
    CAPSTAN_COMPOSITOR_ENABLED: 'false',
    CAPSTAN_RECORDER_PORT_RANGE: '41000-41099',
    CAPSTAN_RECORDER_SEGMENT_SECONDS: '2',
    CAPSTAN_STREAM_POLL_MS: '20',
  });
  const ready = JSON.parse(runtime.stdout().split('\n').find((l) => l.includes('runtime ready'))!) as { s3: string };
  s3 = s3Client({ AWS_REGION: 'us-east-1', CAPSTAN_S3_ENDPOINT: ready.s3 });
});

afterAll(async () => {
  await runtime?.stop('SIGTERM').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

async function download(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: 'capstan-media', Key: key }));
  const path = join(workDir, key.replaceAll('/', '_'));
  writeFileSync(path, Buffer.from(await object.Body!.transformToByteArray()));
  return path;
}

describe('recorder with a real ffmpeg peer', () => {
  it('claims the recording, exposes its ingest endpoint, records Opus and VP8 tracks with a manifest', async () => {
    const api = http(runtime.url, KEY);
    const created = await api('POST', '/v1/recordings', { source: { type: 'rtp', room_id: 'room-1' }, recording_name: 'e2e' });
    const id = created.json!['id'] as string;
    const live = await eventually(async () => {
      const r = await api('GET', `/v1/recordings/${id}`);
      return r.json!['status'] === 'recording' ? r.json! : undefined;
    }, 30_000);
    expect(live['ingest']).toMatchObject({ protocol: 'rtp', host: '127.0.0.1' });
    const { port } = live['ingest'] as { port: number };
    expect(port).toBeGreaterThanOrEqual(41000);

    const registered = await api('POST', `/v1/recordings/${id}/tracks`, {
      tracks: [
        { ssrc: 1111, payload_type: 97, codec: 'opus', peer_id: 'alice', display_name: 'Alice', track_type: 'microphone' },
        { ssrc: 2222, payload_type: 96, codec: 'VP8', peer_id: 'alice', track_type: 'camera' },
        // A camera that only ever sends fragments without a keyframe: nothing decodable.
        { ssrc: 9999, payload_type: 96, codec: 'vp8', peer_id: 'bob', track_type: 'camera' },
        // A registered microphone that never sends.
        { ssrc: 8888, payload_type: 97, codec: 'opus', peer_id: 'carol' },
      ],
    });
    expect(registered.status).toBe(201);
    const broken = createSocket('udp4');
    for (let seq = 0; seq < 20; seq++) {
      const packet = Buffer.alloc(112, 0x11);
      packet[0] = 0x80;
      packet[1] = 96;
      packet.writeUInt16BE(seq, 2);
      packet.writeUInt32BE(seq * 3000, 4);
      packet.writeUInt32BE(9999, 8);
      packet[12] = 0x00; // VP8 descriptor: not the start of a partition, so never a keyframe
      await new Promise<void>((r) => broken.send(packet, port, '127.0.0.1', () => r()));
    }
    broken.close();
    await runToEnd('ffmpeg', ffmpegOpusVp8Args('127.0.0.1', port, 5, { audio: 1111, video: 2222 }));
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);

    const done = await eventually(async () => {
      const r = await api('GET', `/v1/recordings/${id}`);
      return r.json!['status'] === 'processing' && r.json!['manifest'] ? r.json! : undefined;
    }, 60_000);
    const manifest = ManifestSchema.parse(JSON.parse(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'capstan-media', Key: (done['manifest'] as { key: string }).key }))).Body!.transformToByteArray()).toString()));
    expect(manifest.tracks.map((t) => t.codec).sort()).toEqual(['opus', 'vp8']);
    // One undecodable track does not hold back the others; it and the silent one are listed with why.
    expect(manifest.silent_tracks.map((t) => [t.ssrc, t.reason, t.packets]).sort()).toEqual([
      [8888, 'no_packets', 0],
      [9999, 'no_decodable_frames', 20],
    ]);
    expect(manifest.segments.length).toBeGreaterThanOrEqual(2);
    for (const track of manifest.tracks) {
      expect(track.start_time_source).toBe('rtcp_sender_report');
      expect(track.stats.lost).toBe(0);
      const path = await download(track.key);
      const probe = await ffprobe(path);
      expect(probe.streams[0]!.codec_name).toBe(track.codec);
      expect(Math.abs(Number(probe.format.duration) - 5)).toBeLessThan(0.5);
      expect(await decodeErrors(path)).toBe('');
    }
    const events = await api('GET', `/v1/recordings/${id}/events`);
    const types = (events.json!['items'] as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['RecordingClaimed', 'RecordingStarted', 'TracksRegistered', 'RecordingStopRequested', 'TrackRecorded', 'RecordingStopped']));
    expect(types.filter((t) => t === 'TrackRecorded')).toHaveLength(2);
  });
});
