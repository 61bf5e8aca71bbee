/**
 * The renderer with real ffmpeg on recorder-like inputs (VP8 WebM, Opus Ogg): the layout
 * lands where the plan says, chunked and single encodes agree frame for frame, per-track
 * files have the composite's length, and aborts and broken inputs fail clearly.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedRoom } from '../../../test/support/recorded-room.ts';
import { planComposition } from '../layout/planner.ts';
import type { CompositionPlan } from '../plan/types.ts';
import { renderComposition } from './render.ts';
import { RenderError } from './run.ts';

const exec = promisify(execFile);
let dir: string;
let plan: CompositionPlan;
let files: Map<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'capstan-render-'));
  const room = await recordedRoom(dir, { recording_id: 'rec_r', tenant_id: 't', prefix: '' }, [
    { peer_id: 'red', color: 'red', tone_hz: 440, offset_ms: 0, duration_ms: 6000 },
    { peer_id: 'blue', color: 'blue', tone_hz: 880, offset_ms: 2025, duration_ms: 3975 },
  ]);
  plan = planComposition(room.manifest, { preset: 'grid', resolution: '640x360' });
  files = new Map(room.files.map((f) => [f.track.track_id, f.path]));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function frames(path: string): Promise<number> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  return Number(stdout.trim());
}

async function pixel(path: string, seconds: number, x: number, y: number, width = 640): Promise<[number, number, number]> {
  const raw = join(dir, `px-${Math.random().toString(36).slice(2)}.rgb`);
  await exec('ffmpeg', ['-v', 'error', '-y', '-ss', String(seconds), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', raw]);
  const frame = await readFile(raw);
  const i = (y * width + x) * 3;
  return [frame[i]!, frame[i + 1]!, frame[i + 2]!];
}

const isRed = ([r, g, b]: [number, number, number]) => r > 180 && g < 60 && b < 60;
const isBlue = ([r, g, b]: [number, number, number]) => b > 180 && r < 60 && g < 60;

describe('renderComposition', () => {
  it('chunked and single encodes agree frame for frame, and the grid changes when blue joins', { timeout: 120_000 }, async () => {
    const progress: number[] = [];
    const [single, chunked] = [await mkdtemp(join(dir, 'one-')), await mkdtemp(join(dir, 'two-'))];
    const one = await renderComposition({ plan, files, outputs: ['composite.mp4'], workDir: single, parallelism: 1 });
    const two = await renderComposition({ plan, files, outputs: ['composite.mp4', 'tracks', 'thumbnails', 'audio.mp3'], workDir: chunked, parallelism: 2, onProgress: (f) => progress.push(f) });
    const a = one.find((f) => f.name === 'composite.mp4')!;
    const b = two.find((f) => f.name === 'composite.mp4')!;
    expect(await frames(a.path)).toBe(180);
    expect(await frames(b.path)).toBe(180);
    expect(b).toMatchObject({ kind: 'composite', content_type: 'video/mp4', codecs: ['h264', 'aac'], width: 640, height: 360 });
    expect(Math.abs(b.duration_seconds! - 6)).toBeLessThan(0.1);

    // Red alone, full frame (letterboxed 16:9 in 16:9); then red left, blue right.
    expect(isRed(await pixel(b.path, 1, 320, 180))).toBe(true);
    expect(isRed(await pixel(b.path, 4, 160, 180))).toBe(true);
    expect(isBlue(await pixel(b.path, 4, 480, 180))).toBe(true);
    // At the first frame of the second chunk (3 s) both tiles already have pictures.
    expect(isRed(await pixel(b.path, 3, 160, 180))).toBe(true);
    expect(isBlue(await pixel(b.path, 3, 480, 180))).toBe(true);
    // Side by side at 16:9 leaves bands above and below each tile: background.
    expect((await pixel(b.path, 4, 160, 20)).every((v) => v < 40)).toBe(true);

    // Per-track files have the composite's length; blue's video is black before it joined.
    const blue = two.find((f) => f.name === 'track-trk_blue_video.mp4')!;
    expect(Math.abs(blue.duration_seconds! - 6)).toBeLessThan(0.1);
    expect(blue).toMatchObject({ width: 320, height: 180 });
    expect((await pixel(blue.path, 1, 160, 90, 320)).every((v) => v < 40)).toBe(true);
    expect(isBlue(await pixel(blue.path, 4, 160, 90, 320))).toBe(true);
    expect(two.find((f) => f.name === 'track-trk_red_audio.m4a')).toMatchObject({ kind: 'track', codecs: ['aac'] });
    expect(two.filter((f) => f.kind === 'thumbnail').map((f) => [f.name, f.width])).toEqual([1, 2, 3, 4, 5].map((i) => [`thumbnail-0${i}.jpg`, 640]));
    expect(two.find((f) => f.name === 'audio.mp3')).toMatchObject({ codecs: ['mp3'] });

    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
  });

  it('a gap inside a video track shows its last frame (frozen), not the background', { timeout: 60_000 }, async () => {
    // Red for 1 s, nothing for 1 s (a timestamp gap, as lost packets leave), then green.
    const gappy = join(dir, 'gappy.webm');
    await exec('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=320x180:r=30:d=3', '-f', 'lavfi', '-i', 'color=c=green:s=320x180:r=30:d=3',
      '-filter_complex', "[0:v][1:v]overlay=enable='gte(t,2)',select='not(between(t,1,2))'", '-vsync', 'vfr', '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', gappy]);
    const gapPlan: CompositionPlan = {
      width: 640, height: 360, fps: 30, background_color: '#000000', audio_only: false, cuts: [], duration_ms: 3000,
      sources: [{ track_id: 'g', kind: 'video', file_name: 'gappy.webm', offset_ms: 0, duration_ms: 3000, peer_id: 'g', display_name: null, track_type: 'camera' }],
      segments: [{ source_from_ms: 0, source_to_ms: 3000, output_from_ms: 0, slate: 'none', placements: [{ track_id: 'g', box: { x: 0, y: 0, width: 640, height: 360, z: 0 } }] }],
    };
    const work = await mkdtemp(join(dir, 'gap-'));
    const [out] = await renderComposition({ plan: gapPlan, files: new Map([['g', gappy]]), outputs: ['composite.mp4'], workDir: work, parallelism: 1 });
    expect(isRed(await pixel(out!.path, 0.5, 320, 180))).toBe(true);
    expect(isRed(await pixel(out!.path, 1.5, 320, 180))).toBe(true); // frozen through the gap
    const [r, g, b] = await pixel(out!.path, 2.5, 320, 180);
    expect(g > 100 && r < 60 && b < 60, `rgb(${r},${g},${b})`).toBe(true);
  });

  it('an abort kills ffmpeg and rejects', { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    const work = await mkdtemp(join(dir, 'abort-'));
    const rendering = renderComposition({ plan, files, outputs: ['composite.mp4'], workDir: work, parallelism: 2, signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    await expect(rendering).rejects.toThrow(RenderError);
    const { stdout } = await exec('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
    expect(stdout).not.toContain(work);
  });

  it('a broken input fails with the step and ffmpeg’s own words', { timeout: 60_000 }, async () => {
    const broken = join(dir, 'broken.webm');
    await writeFile(broken, Buffer.alloc(4096, 7));
    const work = await mkdtemp(join(dir, 'broken-'));
    const bad = new Map(files);
    bad.set('trk_red_video', broken);
    await expect(renderComposition({ plan, files: bad, outputs: ['composite.mp4'], workDir: work, parallelism: 1 })).rejects.toThrow(/composite-video chunk 1\/1 failed: .*(Invalid data|invalid|EBML)/i);
  });
});
