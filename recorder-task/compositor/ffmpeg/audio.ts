/**
 * The audio mix: every audio source delayed to its offset on the source timeline, summed
 * (no 1/N level drop) under a look-ahead limiter with its delay compensated, then the kept
 * stretches cut out and joined. One ffmpeg process, 48 kHz stereo PCM out.
 */
import type { CompositionPlan, PlanSource } from '../plan/types.ts';
import { audioRuns } from './chunks.ts';
import { ffmpeg } from './run.ts';

const s = (ms: number) => (ms / 1000).toFixed(6);

export function audioMixArgs(plan: CompositionPlan, sources: readonly PlanSource[], files: ReadonlyMap<string, string>, out: string): string[] {
  const end = Math.max(0, ...plan.segments.map((seg) => seg.source_to_ms));
  const inputs: string[] = [];
  const graph: string[] = [];
  sources.forEach((source, i) => {
    inputs.push('-i', files.get(source.track_id)!);
    const delay = Math.max(0, Math.round((source.offset_ms * 48000) / 1000));
    graph.push(
      `[${i}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end=${s(source.duration_ms)},adelay=delays=${delay}S:all=1[a${i}]`,
    );
  });
  if (sources.length === 0) graph.push(`anullsrc=r=48000:cl=stereo,atrim=end=${s(end)}[mix]`);
  else if (sources.length === 1) graph.push(`[a0]apad=whole_dur=${s(end)}[mix]`);
  else {
    graph.push(
      `${sources.map((_, i) => `[a${i}]`).join('')}amix=inputs=${sources.length}:duration=longest:normalize=0,alimiter=limit=0.97:level=false:latency=true,apad=whole_dur=${s(end)}[mix]`,
    );
  }
  const runs = audioRuns(plan);
  if (runs.length === 1) {
    const r = runs[0]!;
    graph.push(`[mix]atrim=start=${s(r.from_ms)}:end=${s(r.to_ms)},asetpts=PTS-STARTPTS${r.silent ? ',volume=0' : ''}[out]`);
  } else {
    graph.push(`[mix]asplit=${runs.length}${runs.map((_, i) => `[m${i}]`).join('')}`);
    runs.forEach((r, i) => graph.push(`[m${i}]atrim=start=${s(r.from_ms)}:end=${s(r.to_ms)},asetpts=PTS-STARTPTS${r.silent ? ',volume=0' : ''}[r${i}]`));
    graph.push(`${runs.map((_, i) => `[r${i}]`).join('')}concat=n=${runs.length}:v=0:a=1[out]`);
  }
  return [...inputs, '-filter_complex', graph.join(';'), '-map', '[out]', '-c:a', 'pcm_s16le', '-ar', '48000', '-ac', '2', out];
}

export function renderAudioMix(
  plan: CompositionPlan,
  sources: readonly PlanSource[],
  files: ReadonlyMap<string, string>,
  out: string,
  options: { onProgress?: (f: number) => void; signal?: AbortSignal; step?: string } = {},
): Promise<void> {
  return ffmpeg({
    step: options.step ?? 'audio mix',
    args: audioMixArgs(plan, sources, files, out),
    seconds: plan.duration_ms / 1000,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
