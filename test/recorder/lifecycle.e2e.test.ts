/**
 * The recorder task's process lifecycle, run standalone as a Fargate task would run it
 * (test/support/recorder-harness.ts): crash and recovery (SIGKILL), graceful stop (SIGTERM),
 * hard stop (SIGINT), an S3 outage under load, the inactivity and max-duration stops, and
 * `/health` + `/metrics`. Real processes, real UDP, real ffmpeg senders, real local AWS servers.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../shared/recording/manifest.ts';
import type { RecordingView } from '../../shared/recording/view.ts';
import { startFakeEcsAgent } from '../support/fake-ecs-agent.ts';
import { ffprobe } from '../support/media.ts';
import {
  senderTracks,
  sleep,
  startRecorder,
  startRecorderStack,
  startSender,
  typesOf,
  waitFor,
  waitForIngest,
  type RecorderHandle,
  type RecorderStack,
  type Sender,
} from '../support/recorder-harness.ts';

/** This file's UDP ports: 43000-43199, 16 per recorder process. */
const PORT_BASE = 43000;
const SEGMENT_SECONDS = 1;
/**
 * A 1 s segment of the test's Opus stream (libopus defaults, ~64 kbit/s) is 11-14 kB: two fit
 * (so a healthy S3, one upload behind at worst, never hits the limit), three do not (so an
 * outage hits it within about three seconds).
 */
const SPILL_LIMIT_BYTES = 32_000;

let stack: RecorderStack;
/** Processes a test started; killed after it whatever happened. */
const started: { recorders: RecorderHandle[]; senders: Sender[] } = { recorders: [], senders: [] };

beforeAll(async () => {
  stack = await startRecorderStack({ portBase: PORT_BASE, portCount: 200, slice: 16 });
}, 120_000);

afterEach(async () => {
  await Promise.all(started.senders.splice(0).map((s) => s.stop()));
  await Promise.all(started.recorders.splice(0).map((r) => r.signal('SIGKILL')));
  if (!stack.s3Up) await stack.startS3();
});

afterAll(async () => {
  await stack?.stop();
});

async function recorder(options: Parameters<typeof startRecorder>[1]): Promise<RecorderHandle> {
  const handle = await startRecorder(stack, options);
  started.recorders.push(handle);
  return handle;
}

function sender(...args: Parameters<typeof startSender> extends [unknown, ...infer R] ? R : never): Sender {
  const s = startSender(stack, ...args);
  started.senders.push(s);
  return s;
}

/** Every track file of a manifest downloaded and probed: it plays as the codec it claims. */
async function probeTracks(manifest: Manifest) {
  const probed: { codec: string; seconds: number; manifestSeconds: number; firstPacketMs: number; lastPacketMs: number }[] = [];
  for (const track of manifest.tracks) {
    const probe = await ffprobe(await stack.download(track.key));
    expect(probe.streams[0]?.codec_name).toBe(track.codec);
    const seconds = Number(probe.format.duration);
    expect(seconds).toBeGreaterThan(0);
    probed.push({ codec: track.codec, seconds, manifestSeconds: track.duration_seconds, firstPacketMs: Date.parse(track.first_packet_at), lastPacketMs: Date.parse(track.last_packet_at) });
  }
  return probed;
}

/**
 * A recorder died holding the recording; another one got the job after the lease and
 * recovered it from S3. Everything captured up to the death is in the files, except at most
 * the open segment.
 */
async function expectRecovered(recordingId: string, dead: RecorderHandle, rescuer: RecorderHandle, diedAtMs: number, codecs: string[]) {
  const view = await stack.waitForStatus(recordingId, (v) => v.status === 'processing' && v.interruptions.length > 0 && v.interruptions.every((i) => i.recovered_at !== null), 60_000);
  const events = await stack.events(recordingId);
  const types = typesOf(events);
  const interrupted = types.indexOf('RecordingInterrupted');
  const tracks = types.flatMap((t, i) => (t === 'TrackRecorded' ? [i] : []));
  expect(interrupted).toBeGreaterThan(-1);
  expect(tracks).toHaveLength(codecs.length);
  expect(Math.min(...tracks)).toBeGreaterThan(interrupted);
  expect(types.indexOf('RecordingRecovered')).toBeGreaterThan(Math.max(...tracks));
  expect(types.indexOf('RecordingStopped')).toBeGreaterThan(Math.max(...tracks));
  // Recovered before Stopped: a crash between them leaves a recording the next recorder recovers again.
  expect(types.indexOf('RecordingRecovered')).toBeLessThan(types.indexOf('RecordingStopped'));
  expect(types.filter((t) => t === 'RecordingInterrupted' || t === 'RecordingRecovered' || t === 'RecordingStopped')).toHaveLength(3);
  // Nobody asked it to stop: the dead recorder never got that far.
  expect(types).not.toContain('RecordingStopRequested');
  expect(events[interrupted]!.data).toMatchObject({ recorder_id: dead.id, reason: 'lease_expired' });
  expect(events.find((e) => e.type === 'RecordingRecovered')!.data).toMatchObject({ recorder_id: rescuer.id });
  expect(view.recorder_id).toBe(rescuer.id);

  const manifest = await stack.manifest(view);
  expect(manifest.recovered).toBe(true);
  expect(manifest.stop_reason).toBe('recovered');
  expect(manifest.recorder_id).toBe(rescuer.id);
  expect(manifest.tracks.map((t) => t.codec).sort()).toEqual([...codecs].sort());
  for (const track of await probeTracks(manifest)) {
    const captured = (diedAtMs - track.firstPacketMs) / 1000;
    // At most the open segment is lost, plus 0.5 s: the roller checks segment age every 250 ms
    // (so a "1 s" segment holds up to 1.25 s), a just-sealed segment may still be uploading
    // when the process dies (a new task has a fresh disk), and files end on frame boundaries.
    expect(track.seconds, `${track.codec}: ${track.seconds} s of ${captured} s captured`).toBeGreaterThanOrEqual(captured - SEGMENT_SECONDS - 0.5);
    expect(track.manifestSeconds).toBeGreaterThanOrEqual(captured - SEGMENT_SECONDS - 0.5);
    // Nothing after the death can be in it.
    expect(track.lastPacketMs).toBeLessThanOrEqual(diedAtMs);
  }
  return { view, manifest };
}

describe('recorder task lifecycle (standalone)', () => {
  it('SIGKILL loses at most the last segment, and another recorder recovers and finalizes', async () => {
    const queueUrl = await stack.jobQueue();
    const first = await recorder({ queueUrl });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3101, 3102) });
    const ingest = await waitForIngest(stack, id);
    expect(ingest.view.recorder_id).toBe(first.id);

    const s = sender(ingest, { seconds: 6, audioSsrc: 3101, videoSsrc: 3102 });
    await sleep(4000);
    const killedAtMs = Date.now();
    const exit = await first.signal('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    // A new task (fresh disk, another id) takes the job once the dead one's 3 s lease lapses.
    const second = await recorder({ queueUrl });
    await s.exited;
    await expectRecovered(id, first, second, killedAtMs, ['opus', 'vp8']);
    expect((await second.metrics()).get('capstan_recorder_recoveries_total')).toBe(1);
  }, 150_000);

  it('SIGTERM finishes and uploads every open track, then exits 0 within the stop timeout', async () => {
    const queueUrl = await stack.jobQueue();
    const STOP_TIMEOUT = 15;
    const task = await recorder({ queueUrl, env: { CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS: String(STOP_TIMEOUT) } });
    const ids = await Promise.all([
      stack.createRecording({ queueUrl, tracks: senderTracks(3201, 3202), name: 'one' }),
      stack.createRecording({ queueUrl, tracks: senderTracks(3211), name: 'two' }),
    ]);
    const ingests = await Promise.all(ids.map((id) => waitForIngest(stack, id)));
    expect(ingests[0]!.port).not.toBe(ingests[1]!.port);
    sender(ingests[0]!, { seconds: 30, audioSsrc: 3201, videoSsrc: 3202 });
    sender(ingests[1]!, { seconds: 30, audioSsrc: 3211 });
    await waitFor('both sessions to receive media', async () => ((await task.metrics()).get('capstan_recorder_packets_received_total') ?? 0) > 200, 20_000);
    await sleep(2500);

    const termAtMs = Date.now();
    const exit = await task.signal('SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.atMs - termAtMs).toBeLessThan(STOP_TIMEOUT * 1000);
    expect(task.logs().some((l) => l.message.startsWith('graceful stop took too long'))).toBe(false);

    const expected: Record<string, string[]> = { [ids[0]!]: ['opus', 'vp8'], [ids[1]!]: ['opus'] };
    for (const id of ids) {
      // Finalized before the process exited: no waiting needed.
      const view = await stack.view(id);
      expect(view.status).toBe('processing');
      const events = await stack.events(id);
      expect(events.find((e) => e.type === 'RecordingStopRequested')?.data).toEqual({ reason: 'shutdown' });
      expect(typesOf(events).filter((t) => t === 'TrackRecorded')).toHaveLength(expected[id]!.length);
      const manifest = await stack.manifest(view);
      expect(manifest.stop_reason).toBe('shutdown');
      expect(manifest.recovered).toBe(false);
      expect(manifest.tracks.map((t) => t.codec).sort()).toEqual(expected[id]);
      for (const track of await probeTracks(manifest)) {
        // A graceful stop loses nothing: the open segment is sealed and uploaded too.
        const captured = (termAtMs - track.firstPacketMs) / 1000;
        expect(track.seconds, `${track.codec}: ${track.seconds} s of ${captured} s`).toBeGreaterThanOrEqual(captured - 0.5);
      }
      for (const track of manifest.tracks) expect(track.stats.lost).toBe(0);
    }
  }, 150_000);

  it('SIGINT stops hard (exit 130, nothing appended), and the next recorder recovers', async () => {
    const queueUrl = await stack.jobQueue();
    const first = await recorder({ queueUrl });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3301) });
    const ingest = await waitForIngest(stack, id);
    const s = sender(ingest, { seconds: 5, audioSsrc: 3301 });
    await waitFor('media to arrive', async () => ((await first.metrics()).get('capstan_recorder_packets_received_total') ?? 0) > 50, 20_000);
    await sleep(2500);

    const before = (await stack.events(id)).length;
    const intAtMs = Date.now();
    const exit = await first.signal('SIGINT');
    expect(exit.code).toBe(130);
    expect(exit.atMs - intAtMs).toBeLessThan(2000);
    expect(first.logs().some((l) => l.level === 'warn' && l.message.startsWith('SIGINT'))).toBe(true);
    const after = await stack.events(id);
    expect(after).toHaveLength(before);
    expect(typesOf(after)).not.toContain('RecordingStopRequested');
    expect(typesOf(after)).not.toContain('RecordingStopped');
    expect((await stack.view(id)).status).toBe('recording');

    const second = await recorder({ queueUrl });
    await s.exited;
    await expectRecovered(id, first, second, intAtMs, ['opus']);
  }, 150_000);

  it('an S3 outage never blocks reception: segments spill to disk and reach S3 when it returns, with no gap', async () => {
    const queueUrl = await stack.jobQueue();
    const task = await recorder({ queueUrl });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3401) });
    const ingest = await waitForIngest(stack, id);
    const SECONDS = 11;
    const s = sender(ingest, { seconds: SECONDS, audioSsrc: 3401 });
    await waitFor('media to arrive', async () => ((await task.metrics()).get('capstan_recorder_packets_received_total') ?? 0) > 20, 20_000);
    await sleep(1500);

    const outageFromMs = Date.now();
    await stack.stopS3();
    let spillPeak = 0;
    let pendingPeak = 0;
    let packetsAtOutageStart = -1;
    let packetsAtOutageEnd = 0;
    const outageUntil = outageFromMs + 4500;
    while (Date.now() < outageUntil) {
      const m = await task.metrics();
      spillPeak = Math.max(spillPeak, m.get('capstan_recorder_spill_bytes') ?? 0);
      pendingPeak = Math.max(pendingPeak, m.get('capstan_recorder_uploads_pending') ?? 0);
      const packets = m.get('capstan_recorder_packets_received_total') ?? 0;
      if (packetsAtOutageStart < 0) packetsAtOutageStart = packets;
      packetsAtOutageEnd = packets;
      await sleep(200);
    }
    await stack.startS3();
    const outageToMs = Date.now();
    expect(spillPeak > 0 || pendingPeak > 0, `spill ${spillPeak} B, pending ${pendingPeak}`).toBe(true);
    expect(pendingPeak).toBeGreaterThanOrEqual(2);
    // Reception went on throughout (~50 Opus packets a second).
    expect(packetsAtOutageEnd - packetsAtOutageStart).toBeGreaterThan(150);
    expect(task.logs().some((l) => l.message === 'segment upload failed; retrying')).toBe(true);

    await waitFor('the backlog to reach S3', async () => (await task.metrics()).get('capstan_recorder_uploads_pending') === 0, 30_000, 250);
    await s.exited;
    await stack.stopRecording(id);
    const view = await stack.waitForStatus(id, (v) => v.status === 'processing' && v.manifest !== null);
    const events = await stack.events(id);
    expect(typesOf(events)).not.toContain('CaptureGapRecorded');
    const manifest = await stack.manifest(view);
    expect(manifest.capture_gaps).toEqual([]);
    expect(manifest.unreadable_segments).toEqual([]);
    // Every segment index, none missing.
    expect(manifest.segments.map((seg) => seg.index)).toEqual(manifest.segments.map((_, i) => i));
    const [track] = manifest.tracks;
    expect(track!.stats.lost).toBe(0);
    expect(track!.gaps).toEqual([]);
    const [probed] = await probeTracks(manifest);
    // The file spans the outage and the whole send.
    expect(probed!.firstPacketMs).toBeLessThan(outageFromMs);
    expect(probed!.lastPacketMs).toBeGreaterThan(outageToMs);
    expect(probed!.seconds).toBeGreaterThanOrEqual(SECONDS - 0.5);
    expect(probed!.manifestSeconds).toBeGreaterThanOrEqual(SECONDS - 0.5);
  }, 150_000);

  it('past the spill limit during an S3 outage a segment is dropped and recorded as a capture gap, never silently', async () => {
    const queueUrl = await stack.jobQueue();
    // About two 1 s Opus segments: enough while S3 is up, exceeded within a few seconds of outage.
    const task = await recorder({ queueUrl, env: { CAPSTAN_RECORDER_SPILL_MAX_BYTES: String(SPILL_LIMIT_BYTES) } });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3501) });
    const ingest = await waitForIngest(stack, id);
    const s = sender(ingest, { seconds: 10, audioSsrc: 3501 });
    await waitFor('media to arrive', async () => ((await task.metrics()).get('capstan_recorder_packets_received_total') ?? 0) > 20, 20_000);
    await sleep(1500);
    // S3 up: nothing dropped.
    expect((await stack.view(id)).capture_gaps).toEqual([]);

    await stack.stopS3();
    const gapped = await stack.waitForStatus(id, (v) => v.capture_gaps.length > 0, 15_000);
    expect((await task.metrics()).get('capstan_recorder_segment_gaps_total')).toBeGreaterThan(0);
    await stack.startS3();
    expect(gapped.capture_gaps[0]).toMatchObject({ reason: 'spill_limit' });
    expect(task.logs().some((l) => l.level === 'error' && l.message.startsWith('segment dropped'))).toBe(true);

    await s.exited;
    await stack.stopRecording(id);
    const view = await stack.waitForStatus(id, (v) => v.status === 'processing' && v.manifest !== null);
    const gaps = (await stack.events(id)).filter((e) => e.type === 'CaptureGapRecorded');
    expect(gaps.length).toBeGreaterThan(0);
    for (const gap of gaps) expect(gap.data).toMatchObject({ reason: 'spill_limit', packets: expect.any(Number), segment_index: expect.any(Number) });
    const manifest = await stack.manifest(view);
    expect(manifest.capture_gaps).toHaveLength(gaps.length);
    // What was dropped shows in the track as loss, and the gap events account for all of it.
    const [track] = manifest.tracks;
    expect(track!.stats.lost).toBeGreaterThan(0);
    const droppedPackets = gaps.reduce((n, g) => n + (g.data['packets'] as number), 0);
    expect(droppedPackets).toBeGreaterThanOrEqual(track!.stats.lost);
    const droppedIndexes = new Set(gaps.map((g) => g.data['segment_index'] as number));
    for (const seg of manifest.segments) expect(droppedIndexes.has(seg.index)).toBe(false);
    await probeTracks(manifest);
  }, 150_000);

  it('stops by itself after inactivity', async () => {
    const queueUrl = await stack.jobQueue();
    const task = await recorder({ queueUrl, env: { CAPSTAN_RECORDER_INACTIVITY_SECONDS: '2' } });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3601) });
    const ingest = await waitForIngest(stack, id);
    const s = sender(ingest, { seconds: 3, audioSsrc: 3601 });
    await s.exited;
    const view = await stack.waitForStatus(id, (v) => v.status === 'processing' && v.manifest !== null, 30_000);
    const events = await stack.events(id);
    const request = events.find((e) => e.type === 'RecordingStopRequested')!;
    expect(request.data).toEqual({ reason: 'inactivity' });
    const manifest = await stack.manifest(view);
    expect(manifest.stop_reason).toBe('inactivity');
    const idleSeconds = (Date.parse(request.occurred_at) - Date.parse(manifest.tracks[0]!.last_packet_at)) / 1000;
    expect(idleSeconds).toBeGreaterThanOrEqual(2);
    expect(idleSeconds).toBeLessThan(5);
    await probeTracks(manifest);
    expect(task.running).toBe(true);
    await waitFor('the session to end', async () => (await task.health()).body['sessions'] === 0, 10_000);
  }, 120_000);

  it('holds ECS task scale-in protection while it records and drops it when idle', async () => {
    const agent = await startFakeEcsAgent();
    try {
      const queueUrl = await stack.jobQueue();
      const task = await recorder({ queueUrl, env: { ECS_AGENT_URI: agent.uri, CAPSTAN_RECORDER_PROTECTION_MINUTES: '15' } });
      expect((await task.health()).body).toMatchObject({ sessions: 0, task_protected: false });
      expect(agent.requests).toHaveLength(0); // idle from the start: nothing to protect
      const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3651) });
      const ingest = await waitForIngest(stack, id);
      sender(ingest, { seconds: 30, audioSsrc: 3651 });
      await waitFor('protection on', () => agent.protectedNow);
      expect(agent.requests[0]!.body).toEqual({ ProtectionEnabled: true, ExpiresInMinutes: 15 });
      expect((await task.health()).body).toMatchObject({ sessions: 1, task_protected: true });
      expect((await task.metrics()).get('capstan_recorder_task_protected')).toBe(1);
      await stack.stopRecording(id);
      await stack.waitForStatus(id, (v) => v.manifest !== null, 30_000);
      await waitFor('protection off', () => !agent.protectedNow && agent.requests.length === 2);
      expect(agent.requests[1]!.body).toEqual({ ProtectionEnabled: false });
      expect((await task.metrics()).get('capstan_recorder_task_protected')).toBe(0);
      expect((await task.metrics()).get('capstan_recorder_task_protection_failures_total')).toBe(0);
    } finally {
      await agent.close();
    }
  }, 120_000);

  it('stops by itself at the maximum duration while media still flows', async () => {
    const queueUrl = await stack.jobQueue();
    await recorder({ queueUrl, env: { CAPSTAN_RECORDER_MAX_DURATION_SECONDS: '3' } });
    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3701) });
    const ingest = await waitForIngest(stack, id);
    sender(ingest, { seconds: 30, audioSsrc: 3701 });
    const view = await stack.waitForStatus(id, (v) => v.status === 'processing' && v.manifest !== null, 30_000);
    const events = await stack.events(id);
    const request = events.find((e) => e.type === 'RecordingStopRequested')!;
    expect(request.data).toEqual({ reason: 'max_duration' });
    const ranSeconds = (Date.parse(request.occurred_at) - Date.parse(view.started_at!)) / 1000;
    expect(ranSeconds).toBeGreaterThanOrEqual(3);
    expect(ranSeconds).toBeLessThan(6);
    const manifest = await stack.manifest(view);
    expect(manifest.stop_reason).toBe('max_duration');
    await probeTracks(manifest);
  }, 120_000);

  it('serves /health and Prometheus /metrics, and reports a receive buffer the kernel capped', async () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    const REQUESTED = 64 * 1024 * 1024;
    const capped = rmemMax < REQUESTED;
    const queueUrl = await stack.jobQueue();
    const task = await recorder({ queueUrl, env: { CAPSTAN_RECORDER_RECV_BUFFER_BYTES: String(REQUESTED) } });

    const idle = await task.health();
    expect(idle.status).toBe(200);
    expect(idle.body).toMatchObject({ status: 'ok', sessions: 0 });
    expect((await fetch(`${task.httpUrl}/nope`)).status).toBe(404);

    const id = await stack.createRecording({ queueUrl, tracks: senderTracks(3801) });
    const ingest = await waitForIngest(stack, id);
    sender(ingest, { seconds: 30, audioSsrc: 3801 });
    const metrics = await waitFor('packets in /metrics', async () => {
      const m = await task.metrics();
      return (m.get('capstan_recorder_packets_received_total') ?? 0) > 50 ? m : undefined;
    }, 20_000);
    const response = await fetch(`${task.httpUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const name of [
      'capstan_recorder_packets_received_total',
      'capstan_recorder_packets_lost_total',
      'capstan_recorder_packets_duplicate_total',
      'capstan_recorder_packets_dropped_total',
      'capstan_recorder_bytes_received_total',
      'capstan_recorder_uploads_pending',
      'capstan_recorder_spill_bytes',
      'capstan_recorder_socket_receive_buffer_bytes',
      'capstan_recorder_socket_receive_buffer_configured_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^capstan_recorder_packets_dropped_total\{reason="[a-z_]+"\} \d+$/m);
    expect(metrics.get('capstan_recorder_bytes_received_total')).toBeGreaterThan(0);
    expect(metrics.get('capstan_recorder_packets_lost_total')).toBe(0);
    expect(metrics.get('capstan_recorder_packets_duplicate_total')).toBe(0);
    expect(metrics.get('capstan_recorder_sessions')).toBe(1);
    expect(metrics.get('capstan_recorder_socket_receive_buffer_configured_bytes')).toBe(REQUESTED);
    const granted = metrics.get('capstan_recorder_socket_receive_buffer_bytes')!;
    expect(granted).toBeGreaterThan(0);

    const live = await task.health();
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', sessions: 1 });
    const capWarning = task.logs().find((l) => l.level === 'warn' && l.message.includes('rmem_max'));
    if (capped) {
      // Linux grants at most rmem_max and says nothing: the recorder reads it back and warns.
      expect(granted).toBe(rmemMax);
      expect(capWarning).toMatchObject({ requestedBytes: REQUESTED, grantedBytes: rmemMax });
      expect(live.body['warnings']).toEqual([expect.stringContaining('rmem_max')]);
    } else {
      expect(granted).toBe(REQUESTED);
      expect(capWarning).toBeUndefined();
      expect(live.body['warnings']).toBeUndefined();
    }

    await stack.stopRecording(id);
    await stack.waitForStatus(id, (v: RecordingView) => v.status === 'processing' && v.manifest !== null);
    const after = await waitFor('the session to end', async () => {
      const m = await task.metrics();
      return m.get('capstan_recorder_sessions') === 0 ? m : undefined;
    }, 10_000);
    // Counters survive the session that produced them.
    expect(after.get('capstan_recorder_packets_received_total')).toBeGreaterThanOrEqual(metrics.get('capstan_recorder_packets_received_total')!);
  }, 120_000);
});
