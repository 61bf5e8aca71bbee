/**
 * Plan + local track files → the requested outputs. The mix is rendered once and every
 * audio output is made from it; the video is chunk-encoded in parallel and joined; the
 * composite muxes the two without re-encoding (+faststart). Per-track files reuse the same
 * two paths with a one-source plan, so they line up with the composite exactly.
 */
import { copyFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CompositionPlan, PlanSource } from '../plan/types.ts';
import type { RenderedFile, RenderedKind, RenderRequest } from '../render/types.ts';
import { renderAudioMix } from './audio.ts';
import { ffmpeg, pool, probe } from './run.ts';
import { renderVideo, type RenderVideoOptions } from './video.ts';
import { even } from '../layout/geometry.ts';

export const DEFAULT_PRESET = 'veryfast';
export const DEFAULT_CRF = 23;
export const THUMBNAILS = [0.1, 0.3, 0.5, 0.7, 0.9];

/** Weighted progress across the steps of one render. */
function progressTracker(onProgress: ((f: number) => void) | undefined) {
  const steps: { weight: number; done: number }[] = [];
  let last = 0;
  return (weight: number) => {
    const step = { weight, done: 0 };
    steps.push(step);
    return (fraction: number) => {
      step.done = fraction;
      const total = steps.reduce((s, x) => s + x.weight, 0);
      const now = Math.min(1, steps.reduce((s, x) => s + x.weight * x.done, 0) / total);
      if (now > last) {
        last = now;
        onProgress?.(now);
      }
    };
  };
}

/** A one-source plan: the track alone, full frame at its own size (capped at the plan's), on the same output timeline. */
function soloPlan(plan: CompositionPlan, source: PlanSource, size: { width: number; height: number }): CompositionPlan {
  const scale = Math.min(1, plan.width / size.width, plan.height / size.height);
  const width = even(size.width * scale) || 2;
  const height = even(size.height * scale) || 2;
  return {
    ...plan,
    width,
    height,
    background_color: '#000000',
    sources: [source],
    segments: plan.segments.map((s) => ({
      ...s,
      slate: 'none',
      placements: source.offset_ms < s.source_to_ms && source.offset_ms + source.duration_ms > s.source_from_ms ? [{ track_id: source.track_id, box: { x: 0, y: 0, width, height, z: 0 } }] : [],
    })),
  };
}

export async function renderComposition(req: RenderRequest): Promise<RenderedFile[]> {
  const { plan, files, outputs, workDir, signal } = req;
  const parallelism = Math.max(1, req.parallelism ?? availableParallelism());
  const video: Omit<RenderVideoOptions, 'name'> = {
    preset: req.preset ?? DEFAULT_PRESET,
    crf: DEFAULT_CRF,
    threads: 0,
    fastDecode: true,
    scaler: 'area',
    parallelism,
    chunksPerLane: 1,
    workDir,
    ...(signal ? { signal } : {}),
  };
  const track = progressTracker(req.onProgress);
  const seconds = plan.duration_ms / 1000;
  const wantsVideo = outputs.includes('composite.mp4') || (outputs.includes('thumbnails') && !plan.audio_only);
  const wantsAudio = outputs.some((o) => o === 'composite.mp4' || o === 'audio.m4a' || o === 'audio.mp3' || o === 'audio.wav');
  const audioSources = plan.sources.filter((s) => s.kind === 'audio');
  const videoSources = plan.sources.filter((s) => s.kind === 'video');
  const opts = (onProgress: (f: number) => void) => ({ onProgress, ...(signal ? { signal } : {}) });
  const produced: { name: string; kind: RenderedKind; path: string; content_type: string }[] = [];

  const videoProgress = wantsVideo ? track(seconds) : null;
  const mixProgress = wantsAudio ? track(seconds * 0.05) : null;
  const mix = join(workDir, 'mix.wav');
  const m4a = join(workDir, 'audio.m4a');
  // The audio mix runs beside the first video chunks: it is cheap and single-threaded.
  const [videoFile] = await Promise.all([
    videoProgress ? renderVideo(plan, files, { ...video, name: 'composite-video', onProgress: videoProgress }) : Promise.resolve(null),
    mixProgress
      ? renderAudioMix(plan, audioSources, files, mix, opts(mixProgress)).then(() =>
          outputs.includes('composite.mp4') || outputs.includes('audio.m4a')
            ? ffmpeg({ step: 'audio.m4a', args: ['-i', mix, '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', m4a], seconds, ...opts(track(seconds * 0.02)) })
            : undefined,
        )
      : Promise.resolve(undefined),
  ]);

  const finals: (() => Promise<void>)[] = [];
  if (outputs.includes('composite.mp4') && videoFile !== null) {
    const path = join(workDir, 'composite.mp4');
    const step = track(seconds * 0.01);
    finals.push(async () => {
      await ffmpeg({ step: 'composite.mp4', args: ['-i', videoFile, '-i', m4a, '-map', '0:v', '-map', '1:a', '-c', 'copy', '-movflags', '+faststart', path], seconds, ...opts(step) });
      produced.push({ name: 'composite.mp4', kind: 'composite', path, content_type: 'video/mp4' });
    });
  }
  if (outputs.includes('audio.m4a')) produced.push({ name: 'audio.m4a', kind: 'audio', path: m4a, content_type: 'audio/mp4' });
  if (outputs.includes('audio.wav')) {
    finals.push(async () => {
      const path = join(workDir, 'audio.wav');
      await copyFile(mix, path);
      produced.push({ name: 'audio.wav', kind: 'audio', path, content_type: 'audio/wav' });
    });
  }
  if (outputs.includes('audio.mp3')) {
    const step = track(seconds * 0.03);
    finals.push(async () => {
      const path = join(workDir, 'audio.mp3');
      await ffmpeg({ step: 'audio.mp3', args: ['-i', mix, '-c:a', 'libmp3lame', '-b:a', '128k', path], seconds, ...opts(step) });
      produced.push({ name: 'audio.mp3', kind: 'audio', path, content_type: 'audio/mpeg' });
    });
  }
  if (outputs.includes('thumbnails') && videoFile !== null) {
    const step = track(seconds * 0.01);
    finals.push(async () => {
      for (const [i, at] of THUMBNAILS.entries()) {
        const name = `thumbnail-${String(i + 1).padStart(2, '0')}.jpg`;
        const path = join(workDir, name);
        await ffmpeg({ step: name, args: ['-ss', (seconds * at).toFixed(3), '-i', videoFile, '-frames:v', '1', '-vf', 'scale=640:-2', '-q:v', '3', path], seconds: 0, ...(signal ? { signal } : {}) });
        produced.push({ name, kind: 'thumbnail', path, content_type: 'image/jpeg' });
        step((i + 1) / THUMBNAILS.length);
      }
    });
  }
  if (outputs.includes('tracks')) {
    for (const source of audioSources) {
      const step = track(seconds * 0.06);
      finals.push(async () => {
        const wav = join(workDir, `track-${source.track_id}.wav`);
        const path = join(workDir, `track-${source.track_id}.m4a`);
        await renderAudioMix(plan, [source], files, wav, { ...opts((f) => step(f * 0.5)), step: `track ${source.track_id} audio` });
        await ffmpeg({ step: `track ${source.track_id} aac`, args: ['-i', wav, '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', path], seconds, ...opts((f) => step(0.5 + f * 0.5)) });
        produced.push({ name: `track-${source.track_id}.m4a`, kind: 'track', path, content_type: 'audio/mp4' });
      });
    }
    for (const source of videoSources) {
      const step = track(seconds * 0.5);
      finals.push(async () => {
        const size = await probe(files.get(source.track_id)!);
        const solo = soloPlan(plan, source, { width: size.width ?? plan.width, height: size.height ?? plan.height });
        const raw = await renderVideo(solo, files, { ...video, fastDecode: false, scaler: 'bicubic', parallelism: 1, name: `track-${source.track_id}-video`, onProgress: step });
        const path = join(workDir, `track-${source.track_id}.mp4`);
        await ffmpeg({ step: `track ${source.track_id} mp4`, args: ['-i', raw, '-c', 'copy', '-movflags', '+faststart', path], seconds: 0, ...(signal ? { signal } : {}) });
        produced.push({ name: `track-${source.track_id}.mp4`, kind: 'track', path, content_type: 'video/mp4' });
      });
    }
  }
  await pool(parallelism, finals);
  req.onProgress?.(1);

  // A stable order: by kind, then by name.
  const rank = (kind: RenderedKind) => ['composite', 'audio', 'track', 'thumbnail'].indexOf(kind);
  const rendered: RenderedFile[] = [];
  for (const file of produced.sort((a, b) => rank(a.kind) - rank(b.kind) || (a.name < b.name ? -1 : 1))) {
    rendered.push({ ...file, ...(await probe(file.path)) });
  }
  return rendered;
}
