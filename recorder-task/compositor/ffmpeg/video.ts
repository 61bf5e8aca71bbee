/**
 * The composed video: chunks encoded in parallel (each seeks its inputs to its own part of
 * the source), then joined with the concat demuxer without re-encoding. Every chunk starts
 * with an IDR frame and has an exact frame count, so the join is seamless and does not drift.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompositionPlan } from '../plan/types.ts';
import { chunkPlan, totalFrames, type Chunk } from './chunks.ts';
import { ffmpeg, pool } from './run.ts';

/** Decoded before each piece's start so its first output frame has a picture (covers short gaps too). */
export const PREROLL_MS = 500;

/** Dark grey behind "the recording was paused". */
export const PAUSED_SLATE_COLOR = '0x202020';

const sec = (ms: number) => (ms / 1000).toFixed(6);
const colour = (hex: string) => `0x${hex.replace('#', '')}`;

export interface VideoOptions {
  readonly preset: string;
  readonly crf: number;
  /** x264 threads per chunk process (0: x264 decides). */
  readonly threads: number;
  /**
   * Skip the decoders' in-loop deblocking: ~30 % cheaper VP8/H.264 decoding, invisible once a
   * source is scaled down into a tile. Off for full-size renders (per-track files).
   */
  readonly fastDecode?: boolean;
  /** Decoder threads per input (0: ffmpeg decides). Chunks already run in parallel. */
  readonly decodeThreads?: number;
  /** Filter-graph threads per chunk process (0: ffmpeg decides). */
  readonly filterThreads?: number;
  /** swscale algorithm for tiles (default bicubic). */
  readonly scaler?: 'bicubic' | 'bilinear' | 'area';
}

export function chunkArgs(plan: CompositionPlan, files: ReadonlyMap<string, string>, chunk: Chunk, out: string, options: VideoOptions): string[] {
  const seconds = chunk.frames / plan.fps;
  const inputs: string[] = [];
  const graph: string[] = [`color=c=${colour(plan.background_color)}:s=${plan.width}x${plan.height}:r=${plan.fps}:d=${(seconds + 1).toFixed(3)},format=yuv420p[bg]`];
  const layers: { label: string; x: string; y: string }[] = [];
  let input = 0;
  for (const piece of chunk.pieces) {
    const length = piece.source_to_ms - piece.source_from_ms;
    if (piece.segment.slate === 'paused') {
      graph.push(`color=c=${PAUSED_SLATE_COLOR}:s=${plan.width}x${plan.height}:r=${plan.fps}:d=${sec(length)},format=yuv420p,setpts=PTS+${sec(piece.chunk_from_ms)}/TB[l${layers.length}]`);
      layers.push({ label: `l${layers.length}`, x: '0', y: '0' });
      continue;
    }
    for (const placement of piece.segment.placements) {
      const source = plan.sources.find((s) => s.track_id === placement.track_id);
      const file = files.get(placement.track_id);
      if (source === undefined || file === undefined) continue;
      // Seek the input to this piece; a track starting inside the piece is shifted instead.
      const into = piece.source_from_ms - source.offset_ms;
      const shift = piece.chunk_from_ms + Math.max(0, -into);
      const take = length - Math.max(0, -into);
      if (take <= 0) continue;
      // Start decoding a little early: frames sit on the sender's clock, not on our frame grid,
      // so the first frame after the exact seek point can be late and the tile would start
      // black. The fps filter then trims to the piece's start (or repeats the first frame).
      const preroll = Math.min(Math.max(0, into), PREROLL_MS);
      inputs.push(...(options.fastDecode ? ['-skip_loop_filter', 'all'] : []), ...(options.decodeThreads ? ['-threads', String(options.decodeThreads)] : []), '-ss', sec(Math.max(0, into) - preroll), '-t', sec(take + preroll), '-i', file);
      const { box } = placement;
      graph.push(
        `[${input}:v]setpts=PTS+${sec(shift - preroll)}/TB,fps=${plan.fps}:start_time=${sec(shift)},scale=${box.width}:${box.height}:force_original_aspect_ratio=decrease:flags=${options.scaler ?? 'bicubic'},format=yuv420p[l${layers.length}]`,
      );
      layers.push({ label: `l${layers.length}`, x: `${box.x}+(${box.width}-overlay_w)/2`, y: `${box.y}+(${box.height}-overlay_h)/2` });
      input++;
    }
  }
  let base = 'bg';
  layers.forEach((layer, i) => {
    const next = i === layers.length - 1 ? 'vout' : `o${i}`;
    graph.push(`[${base}][${layer.label}]overlay=x=${layer.x}:y=${layer.y}:eof_action=pass:repeatlast=0[${next}]`);
    base = next;
  });
  if (layers.length === 0) graph.push('[bg]null[vout]');
  return [
    ...inputs,
    ...(options.filterThreads ? ['-filter_complex_threads', String(options.filterThreads)] : []),
    '-filter_complex', graph.join(';'),
    '-map', '[vout]',
    '-frames:v', String(chunk.frames),
    '-r', String(plan.fps),
    '-c:v', 'libx264', '-preset', options.preset, '-crf', String(options.crf), '-pix_fmt', 'yuv420p',
    '-g', String(plan.fps * 2), '-sc_threshold', '0',
    ...(options.threads > 0 ? ['-threads', String(options.threads)] : []),
    '-video_track_timescale', String(plan.fps * 1000),
    '-an', out,
  ];
}

export interface RenderVideoOptions extends VideoOptions {
  readonly parallelism: number;
  /** Chunks per parallel lane: more balances better, each costs a process start and input seeks. */
  readonly chunksPerLane: number;
  readonly workDir: string;
  readonly name: string;
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

/** Render the plan's video to `<workDir>/<name>.mp4` (video only). */
export async function renderVideo(plan: CompositionPlan, files: ReadonlyMap<string, string>, options: RenderVideoOptions): Promise<string> {
  const minFrames = plan.fps * 4;
  const chunks = chunkPlan(plan, options.parallelism * options.chunksPerLane, minFrames);
  const done = new Array<number>(chunks.length).fill(0);
  const frames = totalFrames(plan);
  const report = () => options.onProgress?.(done.reduce((sum, f, i) => sum + f * chunks[i]!.frames, 0) / frames);
  const paths = chunks.map((c) => join(options.workDir, `${options.name}-chunk-${String(c.index).padStart(4, '0')}.mp4`));
  // With a chunk per core already running, threads inside each process only add contention
  // (bench/RESULTS.md: +8 % × realtime); a lone chunk keeps ffmpeg's own threading.
  const lanes = Math.min(options.parallelism, chunks.length);
  const single = lanes > 1 ? { threads: 1, decodeThreads: 1, filterThreads: 1 } : {};
  const chunkOptions: VideoOptions = { ...options, ...single };
  await pool(
    options.parallelism,
    chunks.map((chunk, i) => () =>
      ffmpeg({
        step: `${options.name} chunk ${i + 1}/${chunks.length}`,
        args: chunkArgs(plan, files, chunk, paths[i]!, chunkOptions),
        seconds: chunk.frames / plan.fps,
        onProgress: (f) => {
          done[i] = f;
          report();
        },
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    ),
  );
  const out = join(options.workDir, `${options.name}.mp4`);
  if (paths.length === 1) return paths[0]!;
  const list = join(options.workDir, `${options.name}-chunks.txt`);
  await writeFile(list, paths.map((p) => `file '${p.replace(/'/g, "'\\''")}'`).join('\n'));
  await ffmpeg({ step: `${options.name} join`, args: ['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out], seconds: 0, ...(options.signal ? { signal: options.signal } : {}) });
  return out;
}
