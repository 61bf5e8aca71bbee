/** s3rver and local-aws-sqs, each in its own child process (see aws-server.mjs). */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnAnnouncing, type RunningServer } from './child.ts';

const SCRIPT = fileURLToPath(new URL('./aws-server.mjs', import.meta.url));

/** One object notification of s3rver, as aws-server.mjs forwards it. */
export interface S3ObjectNotification {
  /** S3's classic event name: `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`, … */
  readonly eventName: string;
  readonly bucket: string;
  /** The object key as stored (not URL-encoded). */
  readonly key: string;
  /** Absent for deletions (and for copies, `etag`). */
  readonly size?: number;
  readonly etag?: string;
  readonly sequencer: string;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly time: string;
}

export interface S3Server extends RunningServer {
  /** Every object notification s3rver emits, in order. Returns the unsubscribe function. */
  onObjectEvent(listener: (event: S3ObjectNotification) => void): () => void;
}

function parseNotification(value: unknown): S3ObjectNotification | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const strings = ['eventName', 'bucket', 'key', 'sequencer', 'requestId', 'sourceIp', 'time'] as const;
  if (!strings.every((name) => typeof v[name] === 'string')) return null;
  return {
    eventName: v['eventName'] as string,
    bucket: v['bucket'] as string,
    key: v['key'] as string,
    ...(typeof v['size'] === 'number' ? { size: v['size'] } : {}),
    ...(typeof v['etag'] === 'string' ? { etag: v['etag'] } : {}),
    sequencer: v['sequencer'] as string,
    requestId: v['requestId'] as string,
    sourceIp: v['sourceIp'] as string,
    time: v['time'] as string,
  };
}

export async function startS3rver(options: { port?: number; dataDir: string }): Promise<S3Server> {
  mkdirSync(options.dataDir, { recursive: true });
  const listeners = new Set<(event: S3ObjectNotification) => void>();
  const server = await spawnAnnouncing(
    's3',
    process.execPath,
    ['--openssl-legacy-provider', SCRIPT, 's3', String(options.port ?? 0), options.dataDir],
    30_000,
    (message) => {
      const event = parseNotification(message['s3event']);
      if (event === null) return;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          // A listener's bug must not take the S3 server's output down with it.
          process.stderr.write(`s3 event listener failed: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    },
  );
  return {
    ...server,
    onObjectEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function startSqs(options: { port?: number } = {}): Promise<RunningServer> {
  return spawnAnnouncing('sqs', process.execPath, [SCRIPT, 'sqs', String(options.port ?? 0)]);
}
