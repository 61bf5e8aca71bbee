/**
 * The output timeline cut into frame-aligned chunks, each encoded by its own ffmpeg and
 * concatenated without re-encoding. A chunk lists the pieces of segments it covers, with
 * their source ranges, so each chunk seeks straight to its part of every input.
 */
import type { CompositionPlan, PlanSegment } from '../plan/types.ts';

export interface Piece {
  readonly segment: PlanSegment;
  readonly source_from_ms: number;
  readonly source_to_ms: number;
  /** Start within the chunk, ms. */
  readonly chunk_from_ms: number;
}

export interface Chunk {
  readonly index: number;
  readonly first_frame: number;
  readonly frames: number;
  readonly pieces: readonly Piece[];
}

export const totalFrames = (plan: Pick<CompositionPlan, 'duration_ms' | 'fps'>): number => Math.max(1, Math.round((plan.duration_ms * plan.fps) / 1000));

/** `count` chunks of near-equal frame counts (fewer when that would make chunks shorter than `minFrames`). */
export function chunkPlan(plan: CompositionPlan, count: number, minFrames: number): Chunk[] {
  const frames = totalFrames(plan);
  const n = Math.max(1, Math.min(count, Math.floor(frames / Math.max(1, minFrames))));
  const chunks: Chunk[] = [];
  for (let i = 0; i < n; i++) {
    const first = Math.round((i * frames) / n);
    const last = Math.round(((i + 1) * frames) / n);
    const from = (first * 1000) / plan.fps;
    const to = (last * 1000) / plan.fps;
    const pieces: Piece[] = [];
    for (const segment of plan.segments) {
      const segFrom = segment.output_from_ms;
      const segTo = segFrom + (segment.source_to_ms - segment.source_from_ms);
      const a = Math.max(from, segFrom);
      const b = Math.min(to, segTo);
      if (b <= a) continue;
      pieces.push({
        segment,
        source_from_ms: segment.source_from_ms + (a - segFrom),
        source_to_ms: segment.source_from_ms + (b - segFrom),
        chunk_from_ms: a - from,
      });
    }
    chunks.push({ index: i, first_frame: first, frames: last - first, pieces });
  }
  return chunks;
}

/** Contiguous stretches of the source that play back to back, with silence where the slate is shown. */
export function audioRuns(plan: Pick<CompositionPlan, 'segments'>): { from_ms: number; to_ms: number; silent: boolean }[] {
  const runs: { from_ms: number; to_ms: number; silent: boolean }[] = [];
  for (const s of plan.segments) {
    const silent = s.slate === 'paused';
    const last = runs.at(-1);
    if (last && last.to_ms === s.source_from_ms && last.silent === silent) last.to_ms = s.source_to_ms;
    else runs.push({ from_ms: s.source_from_ms, to_ms: s.source_to_ms, silent });
  }
  return runs;
}
