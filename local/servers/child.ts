/**
 * Start and stop the embedded servers as child processes; they die with their parent. Each
 * child gets a stdin pipe that only the parent holds: when the parent stops, or is killed
 * (even with SIGKILL, when it can run no code), the pipe closes and the child exits. A child
 * that cannot watch its stdin (DynamoDB Local's JVM) runs under `boundToParent`.
 */
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

/**
 * `command args…` under a shell that ends it when the shell's stdin closes: the parent's pipe
 * (see above). `cat` returns at end of input, then the command gets SIGTERM and is waited for.
 */
export function boundToParent(command: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', '"$@" </dev/null & child=$!; cat >/dev/null; kill "$child" 2>/dev/null; wait "$child"', 'bound-to-parent', command, ...args]];
}

/**
 * Stops a child within `graceMs`: closes its stdin pipe (a child bound to its parent exits on
 * that), sends SIGTERM halfway if it is still running (at once without a pipe), SIGKILL at the end.
 */
export function stopChild(child: ChildProcess, name: string, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const escalate = [
      setTimeout(() => child.kill('SIGTERM'), child.stdin ? graceMs / 2 : 0),
      setTimeout(() => child.kill('SIGKILL'), graceMs),
    ];
    child.once('exit', () => {
      for (const timer of escalate) clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
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
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env } });
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
