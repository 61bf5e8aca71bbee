/**
 * The recorder task as a child process of `npm start`, as a Fargate service is beside the
 * Lambdas in the cloud: its own event loop for the UDP hot path. Its JSON log lines are passed
 * through; SIGTERM at shutdown lets it finish and upload open recordings.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from './servers/child.ts';

const MAIN = fileURLToPath(new URL('../recorder-task/main.ts', import.meta.url));

export interface RecorderProcess {
  readonly httpUrl: string;
  readonly pid: number;
  stop(graceMs: number): Promise<void>;
}

export async function startRecorderProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<RecorderProcess> {
  // Its own process group, so a Ctrl-C in the terminal reaches only `npm start`, which then
  // stops the recorder gracefully; its stdin closing (parent gone) stops it as well.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...env, CAPSTAN_RECORDER_EXIT_WITH_PARENT: 'true' },
  });
  child.stderr!.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the recorder did not start within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`the recorder exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"ready":true')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      } else {
        process.stdout.write(`${line}\n`);
      }
    });
  });
  child.removeAllListeners('exit');
  return { httpUrl: `http://127.0.0.1:${port}`, pid: child.pid!, stop: (graceMs) => stopChild(child, 'recorder', graceMs) };
}
