/**
 * `npm start` keeps its queues and task routes in memory. What a stop takes with them must
 * come back at the next start, from what the tables say is owed: here, the recorder job of a
 * recording requested while no recorder ran, then the compositor job of its manifest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, http, startRuntimeProcess, type RuntimeProcess } from './support/runtime-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-reconcile-'));
const KEY = 'reconcile-e2e-key-0123456789abcdef';
const base = { CAPSTAN_DATA_DIR: dataDir, CAPSTAN_DEV_API_KEY: KEY, CAPSTAN_COMPOSITOR_ENABLED: 'false', CAPSTAN_FEED_SETTLE_MS: '0' };
let runtime: RuntimeProcess | undefined;

afterAll(async () => {
  await runtime?.stop('SIGINT').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('startup reconciliation', () => {
  it('a recording requested before a stop gets its recorder job, and then its manifest its compositor job, at the next starts', async () => {
    // No recorder: the job waits on the in-memory recorder-jobs queue, and the stop loses it.
    runtime = await startRuntimeProcess({ ...base, CAPSTAN_RECORDER_ENABLED: 'false' });
    let api = http(runtime.url, KEY);
    const created = await api('POST', '/v1/recordings', { source: { type: 'rtp' }, recording_name: 'left behind' });
    expect(created.status).toBe(201);
    const id = created.json!['id'] as string;
    expect((await api('GET', `/v1/recordings/${id}`)).json).toMatchObject({ status: 'requested' });
    // Published (the list is the read model, which the publisher writes before it routes the job).
    await eventually(async () => ((await api('GET', '/v1/recordings')).json!['items'] as { id: string }[]).some((r) => r.id === id));
    expect(await runtime.stop('SIGINT')).toBe(0);

    runtime = await startRuntimeProcess({ ...base, CAPSTAN_RECORDER_PORT_RANGE: '44600-44631' });
    api = http(runtime.url, KEY);
    const claimed = await eventually(async () => {
      const view = (await api('GET', `/v1/recordings/${id}`)).json!;
      return view['status'] === 'recording' ? view : undefined;
    }, 30_000);
    expect(claimed['ingest']).toMatchObject({ protocol: 'rtp', host: '127.0.0.1' });
    expect(runtime.stdout()).toMatch(/"message":"work lost with the last run is back on its queues".*"recorderJobs":1/);
    // The job runs its course: stopped, the capture is finalized (a manifest, here with no
    // media) and waits for its composition (the compositor is off in this test).
    expect((await api('POST', `/v1/recordings/${id}/stop`)).status).toBe(202);
    const ended = await eventually(async () => {
      const view = (await api('GET', `/v1/recordings/${id}`)).json!;
      return view['status'] === 'processing' ? view : undefined;
    }, 30_000);
    expect(ended['manifest']).toMatchObject({ key: expect.stringContaining(`${id}/manifest.json`) });
    expect(await runtime.stop('SIGINT')).toBe(0);

    // Next start with the compositor on: the manifest's trigger is dispatched again and the
    // job runs (a manifest without media fails the recording, the customer to blame).
    runtime = await startRuntimeProcess({ ...base, CAPSTAN_RECORDER_ENABLED: 'false', CAPSTAN_COMPOSITOR_ENABLED: 'true' });
    api = http(runtime.url, KEY);
    expect(runtime.stdout()).toMatch(/"message":"work lost with the last run is back on its queues".*"compositions":1/);
    const composed = await eventually(async () => {
      const view = (await api('GET', `/v1/recordings/${id}`)).json!;
      return view['status'] === 'failed' ? view : undefined;
    }, 60_000);
    expect(composed['failure']).toMatchObject({ blame: 'customer' });
    expect((composed['compositions'] as { status: string; failure: { code: string } }[])[0]).toMatchObject({ status: 'failed', failure: { code: 'no_media' } });
  });
});
