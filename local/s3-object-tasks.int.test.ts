/**
 * S3 → EventBridge → ECS RunTask, locally: a real PutObject into s3rver (started exactly as
 * the runtime starts it) reaches the task runner through aws-server.mjs's notification lines,
 * the "Object Created" conversion and the task routes, with the route's environment.
 * The job is the fixture command, passed as the CAPSTAN_COMPOSITOR_COMMAND override.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../shared/aws/clients.ts';
import { LocalConfigSchema, readConfig } from '../shared/config.ts';
import { silentLogger } from '../shared/logger.ts';
import { taskTriggerEnvNames, TASKS } from '../shared/topology.ts';
import { startS3rver, type S3Server } from './servers/s3-sqs.ts';
import { LOCAL_ACCOUNT, routeS3ObjectEvents, taskEnvironment, TaskDispatcher, TaskRunner } from './task-runner.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-s3-tasks-'));
const outDir = mkdtempSync(join(tmpdir(), 'capstan-s3-tasks-out-'));
let server: S3Server;
let s3: S3Client;
let runner: TaskRunner;
let dispatcher: TaskDispatcher;
const seen: { bus: string; event: { detail?: { object?: { key?: string }; reason?: string } } }[] = [];
let stopRouting: () => void;

const config = readConfig(LocalConfigSchema, {
  CAPSTAN_BUCKET: 'media-tasks',
  CAPSTAN_LOG_LEVEL: 'silent',
  CAPSTAN_COMPOSITOR_COMMAND: JSON.stringify(['node', 'test/fixtures/task-env.mjs', outDir]),
});

beforeAll(async () => {
  server = await startS3rver({ dataDir });
  const local = { ...config, CAPSTAN_S3_ENDPOINT: server.endpoint };
  s3 = s3Client(local);
  for (const bucket of [config.CAPSTAN_BUCKET, 'other-bucket']) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // As local/runtime.ts wires it.
  runner = new TaskRunner({
    task: 'compositor',
    command: config.CAPSTAN_COMPOSITOR_COMMAND ?? TASKS.compositor.command,
    env: taskEnvironment(local),
    clearEnv: taskTriggerEnvNames('compositor'),
    concurrency: config.CAPSTAN_COMPOSITOR_CONCURRENCY,
    logger: silentLogger,
    stdout: () => {},
    stderr: () => {},
  });
  const tasks = new TaskDispatcher({ bindings: { mediaBucket: config.CAPSTAN_BUCKET }, runners: { compositor: runner }, logger: silentLogger });
  dispatcher = tasks;
  const recording = { dispatch: (bus: 'default' | 'capstan', event: unknown) => (seen.push({ bus, event: event as (typeof seen)[number]['event'] }), tasks.dispatch(bus, event)) };
  stopRouting = routeS3ObjectEvents(server, recording, { buckets: [config.CAPSTAN_BUCKET], account: LOCAL_ACCOUNT, region: config.AWS_REGION, logger: silentLogger });
}, 60_000);

afterAll(async () => {
  stopRouting?.();
  await runner?.stop(1000);
  s3?.destroy();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jobs = () =>
  readdirSync(outDir)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')) as { env: Record<string, string> });

const put = (Key: string, Bucket = config.CAPSTAN_BUCKET) => s3.send(new PutObjectCommand({ Bucket, Key, Body: '{"version":1}', ContentType: 'application/json' }));

describe('s3rver object events start compositor jobs', { timeout: 60_000 }, () => {
  it('a PutObject of <prefix>/manifest.json starts exactly one job with the bucket and key; other objects start none', async () => {
    // Other keys first: events arrive in order, so had any of them started a job it would be there before the manifest's.
    await put('tenant-a/rec_1/tracks/trk_1/seg-000001.bin');
    await put('tenant-a/rec_1/manifest.json.partial');
    await put('tenant-a/rec_1/composite.mp4');
    await put('tenant-a/rec_1/manifest.json', 'other-bucket');
    await put('tenant-a/rec_1/manifest.json');
    await until(() => seen.length === 4);
    await runner.whenIdle();
    await until(() => runner.stats.succeeded + runner.stats.failed === 1);
    // Give a stray duplicate the time to show up.
    await new Promise((r) => setTimeout(r, 500));

    expect(seen.map((s) => [s.bus, s.event.detail?.object?.key, s.event.detail?.reason])).toEqual([
      ['default', 'tenant-a/rec_1/tracks/trk_1/seg-000001.bin', 'PutObject'],
      ['default', 'tenant-a/rec_1/manifest.json.partial', 'PutObject'],
      ['default', 'tenant-a/rec_1/composite.mp4', 'PutObject'],
      ['default', 'tenant-a/rec_1/manifest.json', 'PutObject'],
    ]);
    expect(runner.stats).toMatchObject({ submitted: 1, started: 1, succeeded: 1, exits: { '0': 1 } });
    const [job, ...others] = jobs();
    expect(others).toEqual([]);
    expect(job!.env).toMatchObject({
      CAPSTAN_COMPOSITOR_BUCKET: config.CAPSTAN_BUCKET,
      CAPSTAN_COMPOSITOR_MANIFEST_KEY: 'tenant-a/rec_1/manifest.json',
      CAPSTAN_BUCKET: config.CAPSTAN_BUCKET,
      CAPSTAN_S3_ENDPOINT: server.endpoint,
    });
    expect(job!.env).not.toHaveProperty('CAPSTAN_COMPOSITOR_RECORDING_ID');
    expect(dispatcher.stats).toMatchObject({ events: 4, matched: 1, submitted: 1, invalid: 0 });
  });

  it('a manifest written by a multipart upload starts a job too, with reason CompleteMultipartUpload', async () => {
    const before = jobs().length;
    const Key = 'tenant-a/rec_2/manifest.json';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: config.CAPSTAN_BUCKET, Key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: config.CAPSTAN_BUCKET, Key, UploadId, PartNumber: 1, Body: '{"version":1}' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: config.CAPSTAN_BUCKET, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    await until(() => jobs().length === before + 1);
    expect(seen.at(-1)).toMatchObject({ bus: 'default', event: { detail: { object: { key: Key }, reason: 'CompleteMultipartUpload' } } });
    expect(jobs().map((j) => j.env['CAPSTAN_COMPOSITOR_MANIFEST_KEY'])).toContain(Key);
  });
});
