/** s3rver and local-aws-sqs, each in its own child process (see aws-server.mjs). */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnAnnouncing, type RunningServer } from './child.ts';

const SCRIPT = fileURLToPath(new URL('./aws-server.mjs', import.meta.url));

export function startS3rver(options: { port?: number; dataDir: string }): Promise<RunningServer> {
  mkdirSync(options.dataDir, { recursive: true });
  return spawnAnnouncing('s3', process.execPath, ['--openssl-legacy-provider', SCRIPT, 's3', String(options.port ?? 0), options.dataDir]);
}

export function startSqs(options: { port?: number } = {}): Promise<RunningServer> {
  return spawnAnnouncing('sqs', process.execPath, [SCRIPT, 'sqs', String(options.port ?? 0)]);
}
