/**
 * The sync analyzer (sync-analysis.ts) against files with a known, injected A/V offset, made by
 * ffmpeg from lavfi expressions indexed by frame and sample number: a white frame at 0.5 s and
 * every second after, a 1 kHz beep starting at the same instants moved by the injected offset.
 * The analyzer must find every flash within one frame and every beep onset within 5 ms, in the
 * containers the system produces: MP4 (H.264 + AAC, a composite), WebM VP8 + Ogg Opus (the
 * recorder's per-track files, placed by offsets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd } from './media.ts';
import { findOnsets, measureAvSync, measureAvSyncPair, measureBeepTimes, measureFlashTimes, pairFlashesAndBeeps } from './sync-analysis.ts';

const dir = mkdtempSync(join(tmpdir(), 'capstan-sync-analysis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FPS = 30;
const SECONDS = 5;
/** Flash/beep instants of the generated files (before any injected offset). */
const INSTANTS = [0.5, 1.5, 2.5, 3.5, 4.5];
const FRAME_S = 1 / FPS;

interface PatternFile {
  /** Beeps this much after the flashes (whole ms). */
  readonly audioShiftMs?: number;
  /** Flashes this many frames after the instants. */
  readonly videoShiftFrames?: number;
  /** The file's time 0 is this far into the pattern (ms; whole frames and 20 ms steps), as a track that started late. */
  readonly startMs?: number;
  readonly video?: 'h264' | 'vp8' | 'none';
  readonly audio?: 'aac' | 'opus' | 'silent' | 'none';
  readonly name: string;
}

let counter = 0;
async function patternFile(spec: PatternFile): Promise<string> {
  const path = join(dir, `${counter++}-${spec.name}`);
  const startFrames = Math.round(((spec.startMs ?? 0) / 1000) * FPS);
  const startSamples = Math.round(((spec.startMs ?? 0) / 1000) * 48000);
  const seconds = SECONDS - (spec.startMs ?? 0) / 1000;
  const firstFrame = 0.5 * FPS + (spec.videoShiftFrames ?? 0);
  const frame = `(n+${startFrames})`;
  const sample = `(n+${startSamples}-${24000 + (spec.audioShiftMs ?? 0) * 48})`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  const video = spec.video ?? 'h264';
  const audio = spec.audio ?? 'aac';
  if (video !== 'none') {
    args.push('-f', 'lavfi', '-i', `color=c=0x181818:s=320x240:r=${FPS}:d=${seconds},drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='gte(${frame},${firstFrame})*eq(mod(${frame}-${firstFrame},${FPS}),0)',format=yuv420p`);
  }
  if (audio !== 'none') {
    const expr = audio === 'silent' ? '0' : `if(gte(${sample},0)*lt(mod(${sample},48000),4800),0.5*sin(2*PI*1000*mod(${sample},48000)/48000),0)`;
    args.push('-f', 'lavfi', '-i', `aevalsrc=exprs='${expr}':s=48000:d=${seconds}`);
  }
  if (video === 'h264') args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (video === 'vp8') args.push('-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k');
  if (audio === 'aac' || audio === 'silent') args.push('-c:a', 'aac', '-b:a', '128k');
  if (audio === 'opus') args.push('-c:a', 'libopus', '-b:a', '64k');
  args.push(path);
  await runToEnd('ffmpeg', args);
  return path;
}

const expectNear = (actual: readonly number[], expected: readonly number[], toleranceS: number) => {
  expect(actual, `${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`).toHaveLength(expected.length);
  actual.forEach((t, i) => expect(Math.abs(t - expected[i]!), `${t} vs ${expected[i]}`).toBeLessThanOrEqual(toleranceS));
};

describe('measureAvSync on an MP4 (H.264 + AAC) with a known offset', () => {
  it.each([0, 80, -60, 33])('measures an injected %i ms (beep after flash) within 5 ms', async (injectedMs) => {
    const file = await patternFile({ name: `offset${injectedMs}.mp4`, audioShiftMs: injectedMs });
    const result = await measureAvSync(file);
    console.log(`injected ${injectedMs} ms: ${JSON.stringify({ offsets_ms: result.pairs.map((p) => p.offset_ms), max_abs_offset_ms: result.max_abs_offset_ms, mean_offset_ms: result.mean_offset_ms })}`);
    // Each flash within a frame of its instant, each beep within 5 ms of its.
    expectNear(result.flashes_s, INSTANTS, FRAME_S + 0.001);
    expectNear(result.beeps_s, INSTANTS.map((t) => t + injectedMs / 1000), 0.005);
    expect(result.pairs).toHaveLength(INSTANTS.length);
    for (const pair of result.pairs) expect(Math.abs(pair.offset_ms - injectedMs), JSON.stringify(pair)).toBeLessThanOrEqual(5);
    expect(Math.abs(result.mean_offset_ms! - injectedMs)).toBeLessThanOrEqual(5);
    expect(Math.abs(result.max_abs_offset_ms! - Math.abs(injectedMs))).toBeLessThanOrEqual(5);
    expect(result.unpaired_flashes_s).toEqual([]);
    expect(result.unpaired_beeps_s).toEqual([]);
  });

  it('measures video one frame late (33.3 ms) as a −33 ms offset', async () => {
    const file = await patternFile({ name: 'video-late.mp4', videoShiftFrames: 1 });
    const result = await measureAvSync(file);
    expectNear(result.flashes_s, INSTANTS.map((t) => t + FRAME_S), 0.002);
    expect(result.pairs).toHaveLength(INSTANTS.length);
    for (const pair of result.pairs) expect(Math.abs(pair.offset_ms + 1000 / FPS), JSON.stringify(pair)).toBeLessThanOrEqual(5);
  });
});

describe('measureAvSyncPair on separate track files placed by offsets', () => {
  it('pairs a VP8 WebM that starts 300 ms into the timeline with an Ogg Opus file, as the recorder writes them', async () => {
    const videoFile = await patternFile({ name: 'video.webm', video: 'vp8', audio: 'none', startMs: 300 });
    const audioFile = await patternFile({ name: 'audio.ogg', video: 'none', audio: 'opus', audioShiftMs: 80 });
    // The video file's own first flash is at 0.2 s: it starts 300 ms into the pattern.
    expectNear(await measureFlashTimes(videoFile), INSTANTS.map((t) => t - 0.3), FRAME_S + 0.001);
    const placed = await measureAvSyncPair(videoFile, 300, audioFile, 0);
    console.log(`pair, +80 ms: ${JSON.stringify(placed.pairs.map((p) => p.offset_ms))}`);
    expect(placed.pairs).toHaveLength(INSTANTS.length);
    for (const pair of placed.pairs) expect(Math.abs(pair.offset_ms - 80), JSON.stringify(pair)).toBeLessThanOrEqual(5);
    // Placed wrongly (both at 0), the same files are 380 ms apart: the offsets are what is measured.
    const misplaced = await measureAvSyncPair(videoFile, 0, audioFile, 0);
    for (const pair of misplaced.pairs) expect(Math.abs(pair.offset_ms - 380), JSON.stringify(pair)).toBeLessThanOrEqual(5);
    // An audio file that starts late works the same way.
    const lateAudio = await patternFile({ name: 'late-audio.ogg', video: 'none', audio: 'opus', startMs: 1000, audioShiftMs: -60 });
    const late = await measureAvSyncPair(videoFile, 300, lateAudio, 1000);
    expect(late.pairs).toHaveLength(INSTANTS.length - 1);
    for (const pair of late.pairs) expect(Math.abs(pair.offset_ms + 60), JSON.stringify(pair)).toBeLessThanOrEqual(5);
  });
});

describe('files without a pattern', () => {
  it('gives an empty result for silent audio, no audio and no flashes, without failing', async () => {
    const silent = await patternFile({ name: 'silent.mp4', audio: 'silent' });
    const result = await measureAvSync(silent);
    expect(result.beeps_s).toEqual([]);
    expect(result.pairs).toEqual([]);
    expect(result.max_abs_offset_ms).toBeNull();
    expect(result.mean_offset_ms).toBeNull();
    expectNear(result.flashes_s, INSTANTS, FRAME_S + 0.001);
    expect(result.unpaired_flashes_s).toHaveLength(INSTANTS.length);

    const videoOnly = await patternFile({ name: 'video-only.webm', video: 'vp8', audio: 'none' });
    expect(await measureBeepTimes(videoOnly)).toEqual([]);
    expect((await measureAvSync(videoOnly)).pairs).toEqual([]);
    const audioOnly = await patternFile({ name: 'audio-only.ogg', video: 'none', audio: 'opus' });
    expect(await measureFlashTimes(audioOnly)).toEqual([]);
    expect((await measureAvSync(audioOnly)).pairs).toEqual([]);
  });

  it('ignores clicks and pairs only what is close enough', () => {
    const samples = new Int16Array(48000);
    samples[1000] = 12000; // a click: one sample, loud, but not a beep
    for (let i = 24000; i < 24000 + 4800; i++) samples[i] = Math.round(16000 * Math.sin((2 * Math.PI * 1000 * (i - 24000)) / 48000));
    // The first sample above 30 % of the peak (4800): 16000 · sin(2π · 3/48) = 6123.
    expect(findOnsets(samples)).toEqual([24003]);
    const paired = pairFlashesAndBeeps([1, 3, 5], [1.02, 5.7, 2.99]);
    expect(paired.pairs.map((p) => [p.flash_s, p.offset_ms])).toEqual([
      [1, 20],
      [3, -10],
    ]);
    expect(paired.unpaired_flashes_s).toEqual([5]);
    expect(paired.unpaired_beeps_s).toEqual([5.7]);
  });
});
