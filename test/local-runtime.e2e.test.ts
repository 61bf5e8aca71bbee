/**
 * `npm start` as users run it: a child process on a fresh data dir, driven over HTTP only.
 * It boots its own DynamoDB Local, s3rver and local-aws-sqs, stops cleanly on Ctrl-C, and
 * a restart finds everything where it was.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws/clients.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from './support/runtime-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-runtime-'));
let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  // Ctrl-C, as a user stops it: the runtime stops its DynamoDB Local, s3rver and SQS children (a SIGKILL would orphan them).
  await runtime?.stop('SIGINT').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

const otherTenant = { CAPSTAN_DEV_API_KEYS: 'acme:acme-key-0123456789abcdef' };
// The recorder has its own e2e (test/media); here rtp recordings stay unclaimed, so stop and
// delete exercise the paths of a recording nothing has started.
const noRecorder = { CAPSTAN_RECORDER_ENABLED: 'false' };

describe('local runtime (npm start)', () => {
  let apiKey = '';
  const ids: string[] = [];
  let deletedId = '';

  it('boots offline, prints a dev key, serves health and the API', async () => {
    runtime = await startRuntimeProcess({ CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOG_LEVEL: 'info', ...noRecorder });
    // No CAPSTAN_DEV_API_KEY: one was generated, printed and kept in the data dir.
    apiKey = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
    expect(runtime.stderr()).toContain(apiKey);

    const anonymous = http(runtime.url);
    expect((await anonymous('GET', '/health')).json).toMatchObject({ status: 'ok' });
    expect((await anonymous('GET', '/v1/recordings')).status).toBe(401);

    const api = http(runtime.url, apiKey);
    for (const name of ['standup', 'retro', 'planning']) {
      const created = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, recording_name: name, metadata: { team: 'core' } }, { 'idempotency-key': `key-${name}` });
      expect(created.status).toBe(201);
      ids.push(created.json!['id'] as string);
    }
    expect((await api('POST', `/v1/recordings/${ids[0]}/stop`)).json).toMatchObject({ status: 'failed' });
    const listed = await eventually(async () => {
      const page = await api('GET', '/v1/recordings?metadata.team=core&limit=10');
      const items = page.json!['items'] as { id: string; status: string }[];
      return items.length === 3 && items.find((i) => i.id === ids[0])?.status === 'failed' ? items : undefined;
    });
    expect(listed.map((i) => i.id)).toEqual([...ids].reverse());
  });

  it('deleting a recording removes its media from the bucket and keeps its metadata', async () => {
    const api = http(runtime!.url, apiKey);
    deletedId = ids[2]!;
    const ready = JSON.parse(runtime!.stdout().split('\n').find((l) => l.includes('runtime ready'))!) as { s3: string };
    const s3 = s3Client({ AWS_REGION: 'us-east-1', CAPSTAN_S3_ENDPOINT: ready.s3 });
    const bucket = 'capstan-media';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `dev/${deletedId}/tracks/a.webm`, Body: 'audio' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `dev/${ids[1]}/tracks/b.webm`, Body: 'keep me' }));
    expect((await api('DELETE', `/v1/recordings/${deletedId}`)).status).toBe(202);
    await eventually(async () => {
      const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `dev/${deletedId}/` }));
      return (listing.KeyCount ?? 0) === 0;
    });
    const kept = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `dev/${ids[1]}/` }));
    expect(kept.KeyCount).toBe(1);
    expect((await api('GET', `/v1/recordings/${deletedId}`)).json).toMatchObject({ status: 'deleted', recording_name: 'planning' });
    s3.destroy();
  });

  it('stops cleanly on Ctrl-C (SIGINT) with exit code 0', async () => {
    expect(await runtime!.stop('SIGINT')).toBe(0);
  });

  it('rebuilds the read model from the event store while stopped (npm run rebuild:read-model)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'local/rebuild-read-model.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, CAPSTAN_DATA_DIR: dataDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 90_000,
    });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['message'] === 'read model emptied')).toMatchObject({ removed: 3 });
    expect(lines.find((l) => l['message'] === 'read model rebuilt')).toMatchObject({ streams: 3, events: 6 });
  });

  it('after a restart the data is all there and the pipeline keeps running', async () => {
    runtime = await startRuntimeProcess({ CAPSTAN_DATA_DIR: dataDir, ...otherTenant, ...noRecorder });
    const api = http(runtime.url, apiKey);
    expect(runtime.stderr()).not.toContain(apiKey); // the kept key is reused, not re-announced
    const first = await api('GET', `/v1/recordings/${ids[0]}`);
    expect(first.json).toMatchObject({ id: ids[0], status: 'failed', recording_name: 'standup' });
    expect(((await api('GET', `/v1/recordings/${ids[0]}/events`)).json!['items'] as unknown[]).length).toBe(3);
    // The idempotency key still answers with the original recording.
    const replay = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, recording_name: 'retro', metadata: { team: 'core' } }, { 'idempotency-key': 'key-retro' });
    expect(replay.json!['id']).toBe(ids[1]);
    // New writes still reach the read model through the stream after the restart.
    const fresh = await api('POST', '/v1/recordings', { source: { type: 'stream', encoding: 'mulaw', sample_rate: 8000 }, metadata: { team: 'core' } });
    await eventually(async () => ((await api('GET', '/v1/recordings?metadata.team=core')).json!['items'] as unknown[]).length === 4);
    expect(fresh.json).toMatchObject({ outputs: ['audio.wav'] });
    // Another tenant, seeded by CAPSTAN_DEV_API_KEYS, sees none of it.
    const acme = http(runtime.url, 'acme-key-0123456789abcdef');
    expect((await acme('GET', `/v1/recordings/${ids[0]}`)).status).toBe(404);
    expect((await acme('GET', '/v1/recordings')).json).toEqual({ items: [], next_cursor: null });
    expect(await runtime.stop('SIGTERM')).toBe(0);
  });

  it('killed outright (SIGKILL), it leaves no server behind, and the next start has everything', async () => {
    runtime = await startRuntimeProcess({ CAPSTAN_DATA_DIR: dataDir, ...noRecorder });
    const servers = descendantsOf(runtime.child.pid!);
    // s3rver, local-aws-sqs, and DynamoDB Local's JVM under its shell.
    expect(servers.map((p) => p.command)).toEqual(expect.arrayContaining([expect.stringContaining('aws-server.mjs s3'), expect.stringContaining('aws-server.mjs sqs'), expect.stringMatching(/^java .*DynamoDBLocal/)]));
    expect(await runtime.stop('SIGKILL')).toBe(null); // no exit code: killed by the signal
    await eventually(async () => servers.every((p) => !alive(p.pid)), 15_000);
    // An orphaned JVM would still hold the data files; the restart opens them cleanly.
    runtime = await startRuntimeProcess({ CAPSTAN_DATA_DIR: dataDir, ...noRecorder });
    expect((await http(runtime.url, apiKey)('GET', `/v1/recordings/${ids[0]}`)).json).toMatchObject({ id: ids[0], status: 'failed' });
  });
});

/** Every process below `pid` (from /proc), with its command line. */
function descendantsOf(pid: number): { pid: number; command: string }[] {
  const table = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return [{ pid: Number(name), ppid, command: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const found: { pid: number; command: string }[] = [];
  const walk = (parent: number) => {
    for (const p of table.filter((t) => t.ppid === parent)) {
      found.push({ pid: p.pid, command: p.command });
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
