/** Start and stop the embedded servers as child processes; they die with their parent. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export function stopChild(child: ChildProcess, name: string, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (!child.kill('SIGTERM')) {
      clearTimeout(timer);
      resolve();
    }
    void name;
  });
}

/**
 * Spawn a server that announces readiness as a JSON line `{"ready":true,"port":N}` on stdout.
 * Every other JSON object line it prints, before or after, goes to `onMessage`.
 */
export async function spawnAnnouncing(
  name: string,
  command: string,
  args: string[],
  timeoutMs = 30_000,
  onMessage?: (message: Record<string, unknown>) => void,
): Promise<RunningServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return; // not ours
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
      const { ready, port } = message as { ready?: unknown; port?: unknown };
      if (ready === true && typeof port === 'number') {
        clearTimeout(timer);
        resolve(port);
      } else {
        onMessage?.(message as Record<string, unknown>);
      }
    });
  });
  child.removeAllListeners('exit');
  return { name, port, endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child, name) };
}
