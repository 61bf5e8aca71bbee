import { describe, expect, it } from 'vitest';
import type { CompositionPlan, PlanSegment } from '../plan/types.ts';
import { audioRuns, chunkPlan, totalFrames } from './chunks.ts';
import { parseProgressSeconds } from './run.ts';

const segment = (source_from_ms: number, source_to_ms: number, output_from_ms: number, slate: 'none' | 'paused' = 'none'): PlanSegment => ({ source_from_ms, source_to_ms, output_from_ms, placements: [], slate });
const plan = (segments: PlanSegment[], fps = 30): CompositionPlan => ({
  width: 640, height: 360, fps, background_color: '#000000', audio_only: false, sources: [], segments, cuts: [],
  duration_ms: segments.reduce((s, x) => s + x.source_to_ms - x.source_from_ms, 0),
});

describe('chunkPlan', () => {
  it('splits into frame-aligned chunks whose frames add up exactly, mapping each piece back to its source time', () => {
    const p = plan([segment(0, 7000, 0), segment(9000, 20_000, 7000)]);
    const chunks = chunkPlan(p, 3, 120);
    expect(chunks.map((c) => [c.first_frame, c.frames])).toEqual([[0, 180], [180, 180], [360, 180]]);
    expect(chunks.reduce((s, c) => s + c.frames, 0)).toBe(totalFrames(p));
    // Chunk 2 covers output 6 s–12 s: the end of segment 1 and the start of segment 2 (after the cut).
    expect(chunks[1]!.pieces.map((x) => [x.source_from_ms, x.source_to_ms, x.chunk_from_ms])).toEqual([
      [6000, 7000, 0],
      [9000, 14_000, 1000],
    ]);
  });

  it('never makes chunks shorter than the minimum, and always at least one', () => {
    expect(chunkPlan(plan([segment(0, 5000, 0)]), 8, 120)).toHaveLength(1);
    expect(chunkPlan(plan([segment(0, 9000, 0)]), 8, 120)).toHaveLength(2);
    expect(chunkPlan(plan([segment(0, 10, 0)]), 2, 120)[0]!.frames).toBe(1);
  });
});

describe('audioRuns', () => {
  it('joins source-contiguous segments and keeps paused ones apart, silent', () => {
    expect(audioRuns(plan([segment(0, 1000, 0), segment(1000, 2000, 1000), segment(2000, 3000, 2000, 'paused'), segment(5000, 6000, 3000)]))).toEqual([
      { from_ms: 0, to_ms: 2000, silent: false },
      { from_ms: 2000, to_ms: 3000, silent: true },
      { from_ms: 5000, to_ms: 6000, silent: false },
    ]);
  });
});

describe('parseProgressSeconds', () => {
  it('reads the last out_time_us (or the microsecond out_time_ms) of a -progress block', () => {
    expect(parseProgressSeconds('frame=10\nout_time_us=1500000\nout_time_ms=1500000\nprogress=continue\n')).toBe(1.5);
    expect(parseProgressSeconds('out_time_us=1000000\nout_time_us=2000000\n')).toBe(2);
    expect(parseProgressSeconds('progress=end\n')).toBeNull();
  });
});
