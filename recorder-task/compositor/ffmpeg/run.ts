/**
 * ffmpeg as a child process: `-progress` parsed into a fraction of the expected output
 * duration, abort kills it, and a failure names the step with the tail of stderr.
 */
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export class RenderError extends Error {
  constructor(readonly step: string, readonly stderrTail: string, options?: ErrorOptions) {
    super(`${step} failed: ${stderrTail.trim().split('\n').slice(-6).join(' | ')}`, options);
    this.name = 'RenderError';
  }
}

/** `out_time_us=…` (or the older, misnamed `out_time_ms=…`, also microseconds) from a `-progress` block. */
export function parseProgressSeconds(chunk: string): number | null {
  let last: number | null = null;
  for (const m of chunk.matchAll(/^out_time_(?:us|ms)=(\d+)$/gm)) last = Number(m[1]) / 1e6;
  return last;
}

export interface FfmpegRun {
  readonly step: string;
  readonly args: readonly string[];
  /** Seconds of output expected, for progress. */
  readonly seconds: number;
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

export function ffmpeg(run: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(new RenderError(run.step, 'aborted'));
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-y', ...run.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
    child.stdout.on('data', (c: Buffer) => {
      const seconds = parseProgressSeconds(c.toString());
      if (seconds !== null && run.seconds > 0) run.onProgress?.(Math.min(1, seconds / run.seconds));
    });
    const abort = () => child.kill('SIGKILL');
    run.signal?.addEventListener('abort', abort, { once: true });
    child.once('error', (error) => reject(new RenderError(run.step, error.message, { cause: error })));
    child.once('close', (code, signal) => {
      run.signal?.removeEventListener('abort', abort);
      if (code === 0) {
        run.onProgress?.(1);
        resolve();
      } else reject(new RenderError(run.step, run.signal?.aborted ? 'aborted' : `exit ${code ?? signal}: ${stderr}`));
    });
  });
}

const exec = promisify(execFile);

export interface ProbeResult {
  readonly duration_seconds: number | null;
  readonly codecs: string[];
  readonly width: number | null;
  readonly height: number | null;
}

export async function probe(path: string): Promise<ProbeResult> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  const info = JSON.parse(stdout) as { format?: { duration?: string }; streams?: { codec_name?: string; codec_type?: string; width?: number; height?: number }[] };
  const video = info.streams?.find((s) => s.codec_type === 'video');
  const duration = Number(info.format?.duration);
  return {
    duration_seconds: Number.isFinite(duration) ? Math.round(duration * 1000) / 1000 : null,
    codecs: (info.streams ?? []).map((s) => s.codec_name ?? 'unknown'),
    width: video?.width ?? null,
    height: video?.height ?? null,
  };
}

/** Run tasks with at most `limit` at once; the first failure aborts the rest. */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await tasks[index]!();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}
