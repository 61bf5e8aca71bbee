/**
 * Runs ffmpeg to its end. Failures become typed errors carrying ffmpeg's last stderr lines,
 * which is where it says why; stdin is closed so ffmpeg never waits for a keypress.
 */
import { spawn } from 'node:child_process';
import { FfmpegFailedError, FfmpegMissingError } from './errors.ts';

export interface FfmpegOptions {
  readonly ffmpegPath?: string;
  /** A remux of hours of media takes seconds; past this the process is killed. */
  readonly timeoutMs?: number;
  readonly stderrTailLines?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_TAIL_LINES = 20;
/** Bytes of stderr kept while running: enough for the tail, bounded for a chatty failure. */
const STDERR_KEEP_BYTES = 64 * 1024;

export const runFfmpeg = (args: readonly string[], options: FfmpegOptions = {}): Promise<void> => {
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const fullArgs = ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, fullArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') reject(new FfmpegMissingError(ffmpegPath, { cause: error }));
      else reject(new FfmpegFailedError(fullArgs, null, null, error.message, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const tail = stderr.trimEnd().split('\n').slice(-(options.stderrTailLines ?? DEFAULT_TAIL_LINES)).join('\n');
      reject(new FfmpegFailedError(fullArgs, code, signal, tail));
    });
  });
};
