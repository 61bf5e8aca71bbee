/**
 * Real media end to end: real RTP senders (ffmpeg, GStreamer) → a UDP socket opened here →
 * captured datagrams with receive times → assembleTrack → ffprobe and a full ffmpeg decode.
 * The senders run in parallel once; each test assembles from their captures.
 */
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRtcp } from '../rtp/rtcp.ts';
import { assembleTrack, type AssembledTrack } from './assemble.ts';
import { EmptyTrackError, FfmpegFailedError, FfmpegMissingError } from './errors.ts';
import { decodeErrors, ffprobe, openRtpCapture, run, type CapturedDatagram, type RtpCapture } from './testing/rtp-capture.ts';

const TIMEOUT_MS = 60_000;

const SENDERS = {
  ffmpegOpus: (port: number) => ['ffmpeg', ['-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=5', '-c:a', 'libopus', '-f', 'rtp', `rtp://127.0.0.1:${port}`]],
  ffmpegVp8: (port: number) => ['ffmpeg', ['-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=4', '-c:v', 'libvpx', '-deadline', 'realtime', '-f', 'rtp', `rtp://127.0.0.1:${port}`]],
  ffmpegVp9: (port: number) => ['ffmpeg', ['-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=3', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-strict', 'experimental', '-f', 'rtp', `rtp://127.0.0.1:${port}`]],
  // x264enc lives in gst-plugins-ugly, which is not installed here; openh264enc (bad) is.
  gstH264: (port: number) => ['gst-launch-1.0', ['-q', ...`videotestsrc num-buffers=120 is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! openh264enc gop-size=30 ! rtph264pay config-interval=1 pt=96 ! udpsink host=127.0.0.1 port=${port}`.split(' ')]],
  gstOpusWraps: (port: number) => ['gst-launch-1.0', ['-q', ...`audiotestsrc num-buffers=150 is-live=true ! opusenc ! rtpopuspay seqnum-offset=65500 timestamp-offset=4294960000 ! udpsink host=127.0.0.1 port=${port}`.split(' ')]],
} satisfies Record<string, (port: number) => [string, string[]]>;

type SenderName = keyof typeof SENDERS;
const captures = {} as Record<SenderName, RtpCapture>;
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'capstan-assemble-'));
  await Promise.all(
    (Object.keys(SENDERS) as SenderName[]).map(async (name) => {
      const capture = await openRtpCapture();
      const [command, args] = SENDERS[name](capture.port);
      await run(command, args, TIMEOUT_MS);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last datagrams are still in the socket
      await capture.close();
      captures[name] = capture;
    }),
  );
}, 120_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

const probeOf = async (track: AssembledTrack) => {
  const probe = await ffprobe(track.path);
  return { probe, stream: probe.streams[0]!, durationSeconds: Number(probe.format.duration) };
};

/** Decoded PCM samples at 48 kHz mono: the timing a listener actually gets. */
const decodedSamples = async (path: string): Promise<number> => {
  const { stdout } = await run('bash', ['-c', `ffmpeg -nostdin -v error -i '${path}' -f s16le -ac 1 -ar 48000 - | wc -c`]);
  return Number(stdout.trim()) / 2;
};

/** ISO BMFF top-level box types in file order (32-bit sizes suffice for these small files). */
const topLevelBoxes = (file: Buffer): string[] => {
  const types: string[] = [];
  for (let offset = 0; offset + 8 <= file.length; offset += file.readUInt32BE(offset) || file.length) {
    types.push(file.toString('latin1', offset + 4, offset + 8));
  }
  return types;
};

/** mulberry32: a small seeded PRNG, so the damaged stream is the same on every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('assembleTrack with real senders', () => {
  it('ffmpeg Opus → Ogg Opus of 5 s that decodes cleanly; its sender reports parse', { timeout: TIMEOUT_MS }, async () => {
    const capture = captures.ffmpegOpus;
    const track = await assembleTrack({ packets: capture.rtp, codec: 'opus', clockRate: 48_000, outDir, baseName: 'ffmpeg-opus' });
    const { stream, probe, durationSeconds } = await probeOf(track);
    expect(probe.format.format_name).toBe('ogg');
    expect(stream.codec_name).toBe('opus');
    expect(Math.abs(durationSeconds - 5)).toBeLessThan(0.5);
    expect(track.durationSeconds).toBeCloseTo(durationSeconds, 2);
    expect(track).toMatchObject({ container: 'ogg', contentType: 'audio/ogg', fileName: 'ffmpeg-opus.ogg' });
    expect(track.stats).toMatchObject({ packets: capture.rtp.length, lost: 0, duplicates: 0, reordered: 0, gaps: [], silenceFrames: 0 });
    expect(track.firstReceivedAtMs).toBe(capture.rtp[0]!.receivedAtMs);
    expect(await decodeErrors(track.path)).toBe('');

    const reports = capture.rtcp.map((d) => parseRtcp(d.data)).flatMap((r) => (r.ok ? r.senderReports : []));
    expect(reports.length).toBeGreaterThan(0);
    const ssrc = capture.rtp[0]!.data.readUInt32BE(8);
    for (const sr of reports) {
      expect(sr.ssrc).toBe(ssrc);
      // ffmpeg and this process read the same clock: the SR's wall time is near its arrival.
      expect(Math.abs(sr.ntpTimeMs - capture.rtcp[0]!.receivedAtMs)).toBeLessThan(10_000);
    }
  });

  it('ffmpeg VP8 → WebM of 4 s that decodes cleanly', { timeout: TIMEOUT_MS }, async () => {
    const track = await assembleTrack({ packets: captures.ffmpegVp8.rtp, codec: 'vp8', clockRate: 90_000, outDir, baseName: 'ffmpeg-vp8' });
    const { stream, probe, durationSeconds } = await probeOf(track);
    expect(probe.format.format_name).toContain('webm');
    expect(stream).toMatchObject({ codec_name: 'vp8', width: 320, height: 240 });
    expect(Math.abs(durationSeconds - 4)).toBeLessThan(0.5);
    expect(track.durationSeconds).toBeCloseTo(4, 1);
    expect(track).toMatchObject({ container: 'webm', contentType: 'video/webm' });
    expect(track.stats).toMatchObject({ lost: 0, frames: 120, droppedFrames: 0 });
    expect(track.stats.keyframes).toBeGreaterThanOrEqual(1);
    expect(await decodeErrors(track.path)).toBe('');
  });

  it('ffmpeg VP9 → WebM that decodes cleanly, keyframes read from the bitstream', { timeout: TIMEOUT_MS }, async () => {
    const track = await assembleTrack({ packets: captures.ffmpegVp9.rtp, codec: 'vp9', clockRate: 90_000, outDir, baseName: 'ffmpeg-vp9' });
    const { stream, durationSeconds } = await probeOf(track);
    expect(stream).toMatchObject({ codec_name: 'vp9', width: 320, height: 240 });
    expect(Math.abs(durationSeconds - 3)).toBeLessThan(0.5);
    expect(track.stats.frames).toBe(90);
    // libvpx places one keyframe at the start; ffmpeg's packetizer leaves the P bit unset on all.
    expect(track.stats.keyframes).toBeLessThan(track.stats.frames);
    expect(await decodeErrors(track.path)).toBe('');
  });

  it('GStreamer H.264 → MP4 (faststart) of 4 s, and Matroska on request', { timeout: TIMEOUT_MS }, async () => {
    const mp4 = await assembleTrack({ packets: captures.gstH264.rtp, codec: 'h264', clockRate: 90_000, outDir, baseName: 'gst-h264' });
    const { stream, probe, durationSeconds } = await probeOf(mp4);
    expect(probe.format.format_name).toContain('mp4');
    expect(stream).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(Math.abs(durationSeconds - 4)).toBeLessThan(0.5);
    expect(mp4).toMatchObject({ container: 'mp4', contentType: 'video/mp4' });
    expect(mp4.stats).toMatchObject({ lost: 0, frames: 120, keyframes: 4, droppedFrames: 0 });
    const boxes = topLevelBoxes(await readFile(mp4.path));
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat')); // faststart
    expect(await decodeErrors(mp4.path)).toBe('');

    const mkv = await assembleTrack({ packets: captures.gstH264.rtp, codec: 'h264', clockRate: 90_000, outDir, baseName: 'gst-h264', h264Container: 'mkv' });
    const probedMkv = await probeOf(mkv);
    expect(probedMkv.probe.format.format_name).toContain('matroska');
    expect(probedMkv.stream.codec_name).toBe('h264');
    expect(Math.abs(probedMkv.durationSeconds - 4)).toBeLessThan(0.5);
    expect(await decodeErrors(mkv.path)).toBe('');
  });

  it('GStreamer Opus across the 65535 → 0 and 2^32 wraps: nothing lost, ~3.2 s', { timeout: TIMEOUT_MS }, async () => {
    const packets = captures.gstOpusWraps.rtp;
    const wire = packets.map((p) => ({ sequence: p.data.readUInt16BE(2), timestamp: p.data.readUInt32BE(4) }));
    expect(wire.some((w) => w.sequence < 100) && wire.some((w) => w.sequence > 65500)).toBe(true);
    expect(wire.some((w) => w.timestamp < 100_000) && wire.some((w) => w.timestamp > 4_294_900_000)).toBe(true);

    const track = await assembleTrack({ packets, codec: 'opus', clockRate: 48_000, outDir, baseName: 'gst-opus-wraps' });
    expect(track.firstSequence).toBe(65500);
    expect(track.firstRtpTimestamp).toBeGreaterThan(4_294_960_000 - 1);
    expect(track.stats).toMatchObject({ packets: packets.length, lost: 0, duplicates: 0, reordered: 0, gaps: [], silenceFrames: 0 });
    // 150 buffers × 1024 samples at 48 kHz = 3.2 s.
    expect(Math.abs(track.durationSeconds - 3.2)).toBeLessThan(0.1);
    const { stream, durationSeconds } = await probeOf(track);
    expect(stream.codec_name).toBe('opus');
    expect(Math.abs(durationSeconds - 3.2)).toBeLessThan(0.1);
    // GStreamer's first packet is 648 samples short of 960 (encoder priming): pre-skip makes up for it.
    expect(Math.abs((await decodedSamples(track.path)) - track.durationSeconds * 48_000)).toBeLessThan(2);
    expect(await decodeErrors(track.path)).toBe('');
  });

  it.each<[SenderName, number]>([
    ['ffmpegOpus', 5],
    ['gstOpusWraps', 3.2],
  ])('%s: counts 5 percent loss, swapped neighbours and 1 percent duplicates exactly, and keeps the timing', { timeout: TIMEOUT_MS }, async (sender, seconds) => {
    const clean = [...captures[sender].rtp].sort((a, b) => a.receivedAtMs - b.receivedAtMs);
    const sequenceOf = (data: Buffer) => data.readUInt16BE(2);
    const random = prng(20260601);
    // Never drop the first or last packet (loss is measured between received packets) nor the
    // two around the 65535 → 0 wrap, which are swapped below. Plus one burst of three.
    const atWrap = (i: number) => [65535, 0].includes(sequenceOf(clean[i]!.data));
    const droppedIndexes = new Set(clean.map((_, i) => i).filter((i) => i > 0 && i < clean.length - 1 && !atWrap(i) && random() < 0.05));
    for (const i of [40, 41, 42]) droppedIndexes.add(i);
    const kept = clean.map((p, i) => ({ index: i, data: p.data })).filter((p) => !droppedIndexes.has(p.index));
    let swaps = 0;
    for (let j = 0; j + 1 < kept.length; j++) {
      if (sequenceOf(kept[j]!.data) === 65535 || random() < 0.05) {
        [kept[j], kept[j + 1]] = [kept[j + 1]!, kept[j]!];
        swaps++;
        j++; // pairs never overlap, so each swap makes exactly one packet late
      }
    }
    const arrivalTimes = clean.filter((_, i) => !droppedIndexes.has(i)).map((p) => p.receivedAtMs);
    const damaged: CapturedDatagram[] = [];
    let duplicates = 0;
    kept.forEach((p, slot) => {
      damaged.push({ receivedAtMs: arrivalTimes[slot]!, data: p.data });
      if (random() < 0.01) {
        damaged.push({ receivedAtMs: arrivalTimes[slot]!, data: Buffer.from(p.data) });
        duplicates++;
      }
    });
    // Hand them over in no particular order: arrival comes from the receive times.
    for (let i = damaged.length - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1));
      [damaged[i], damaged[k]] = [damaged[k]!, damaged[i]!];
    }
    expect(droppedIndexes.size).toBeGreaterThan(5);
    expect(swaps).toBeGreaterThan(3);
    expect(duplicates).toBeGreaterThan(0);

    const track = await assembleTrack({ packets: damaged, codec: 'opus', clockRate: 48_000, outDir, baseName: `${sender}-damaged` });
    const runs: { first: number; length: number }[] = [];
    for (const i of [...droppedIndexes].sort((a, b) => a - b)) {
      const last = runs.at(-1);
      if (last && last.first + last.length === i) last.length++;
      else runs.push({ first: i, length: 1 });
    }
    expect(track.stats).toMatchObject({ packets: clean.length - droppedIndexes.size, lost: droppedIndexes.size, reordered: swaps, duplicates });
    // Both senders send 20 ms packets: a hole of n packets starts where the packet before it
    // ends (its RTP time + 20 ms, across the 2^32 wrap) and lasts n × 20 ms.
    const offsetMs = (i: number) => (((clean[i]!.data.readUInt32BE(4) - clean[0]!.data.readUInt32BE(4)) >>> 0) / 48_000) * 1000;
    expect(track.stats.gaps).toEqual(
      runs.map((r) => ({ afterSequence: sequenceOf(clean[r.first - 1]!.data), missing: r.length, startOffsetMs: offsetMs(r.first - 1) + 20, durationMs: r.length * 20 })),
    );
    expect(track.stats.silenceFrames).toBe(droppedIndexes.size);
    expect(track.firstReceivedAtMs).toBe(clean[0]!.receivedAtMs);
    expect(track.lastReceivedAtMs).toBe(clean.at(-1)!.receivedAtMs);

    const { durationSeconds } = await probeOf(track);
    expect(Math.abs(durationSeconds - seconds)).toBeLessThan(0.5);
    const cleanTrack = await assembleTrack({ packets: clean, codec: 'opus', clockRate: 48_000, outDir, baseName: `${sender}-clean` });
    expect(track.durationSeconds).toBe(cleanTrack.durationSeconds);
    expect(await decodedSamples(track.path)).toBe(await decodedSamples(cleanTrack.path));
    expect(await decodeErrors(track.path)).toBe('');
  });
});

describe('assembleTrack failures', () => {
  it('throws FfmpegMissingError when ffmpeg is not there, and leaves no partial file', { timeout: TIMEOUT_MS }, async () => {
    const dir = await mkdtemp(join(outDir, 'missing-'));
    const attempt = assembleTrack({ packets: captures.ffmpegVp8.rtp, codec: 'vp8', clockRate: 90_000, outDir: dir, baseName: 'x', ffmpeg: { ffmpegPath: join(dir, 'no-ffmpeg') } });
    await expect(attempt).rejects.toBeInstanceOf(FfmpegMissingError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('throws FfmpegFailedError with the last lines of ffmpeg stderr', { timeout: TIMEOUT_MS }, async () => {
    const dir = await mkdtemp(join(outDir, 'failing-'));
    const fake = join(dir, 'fake-ffmpeg');
    await writeFile(fake, '#!/bin/sh\necho "line one" >&2\necho "Invalid data found when processing input" >&2\nexit 187\n');
    await chmod(fake, 0o755);
    const error = await assembleTrack({ packets: captures.gstH264.rtp, codec: 'h264', clockRate: 90_000, outDir: dir, baseName: 'x', ffmpeg: { ffmpegPath: fake } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegFailedError);
    expect(error).toMatchObject({ exitCode: 187, stderrTail: 'line one\nInvalid data found when processing input' });
    expect(await readdir(dir)).toEqual(['fake-ffmpeg']);
  });

  it('throws EmptyTrackError for no valid RTP, and for video without a whole keyframe', { timeout: TIMEOUT_MS }, async () => {
    const garbage = [{ receivedAtMs: 1, data: Buffer.from('not rtp') }];
    await expect(assembleTrack({ packets: garbage, codec: 'opus', clockRate: 48_000, outDir, baseName: 'empty' })).rejects.toMatchObject({
      name: 'EmptyTrackError',
      reason: 'no_packets',
    });
    const vp8 = [...captures.ffmpegVp8.rtp].sort((a, b) => a.receivedAtMs - b.receivedAtMs);
    const withoutFirstPacket = vp8.slice(1, 20); // the keyframe's head is gone
    const error = await assembleTrack({ packets: withoutFirstPacket, codec: 'vp8', clockRate: 90_000, outDir, baseName: 'headless' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmptyTrackError);
    expect(error).toMatchObject({ reason: 'no_decodable_frames' });
  });
});
