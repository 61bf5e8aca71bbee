/** The task runner with real child processes (the fixture in test/fixtures/task-env.mjs). */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../shared/logger.ts';
import { taskTriggerEnvNames } from '../shared/topology.ts';
import { TaskRunner, type TaskResult, type TaskRunnerOptions } from './task-runner.ts';

interface StartRecord {
  pid: number;
  grandchildPid: number | null;
  cwd: string;
  env: Record<string, string>;
  started: number;
}
interface EndRecord {
  pid: number;
  env: Record<string, string>;
  started: number;
  ended: number;
}

let dir: string;
const runners: TaskRunner[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'capstan-tasks-'));
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop(1000)));
  rmSync(dir, { recursive: true, force: true });
});

function runner(options: Partial<TaskRunnerOptions> = {}): TaskRunner {
  const r = new TaskRunner({
    task: 'compositor',
    command: ['node', 'test/fixtures/task-env.mjs', dir],
    concurrency: 1,
    logger: silentLogger,
    stdout: () => {},
    stderr: () => {},
    ...options,
  });
  runners.push(r);
  return r;
}

const read = <T,>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
const ends = () => readdirSync(dir).filter((f) => /^\d+\.json$/.test(f)).map((f) => read<EndRecord>(f));
const starts = () => readdirSync(dir).filter((f) => f.endsWith('.start.json')).map((f) => read<StartRecord>(f));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Alive and not a zombie (an orphan's reaper may be slow). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('TaskRunner', { timeout: 30_000 }, () => {
  it('runs jobs one at a time by default, in order, each with its own environment on top of the base', async () => {
    const r = runner({ env: { CAPSTAN_BUCKET: 'media-x', CAPSTAN_TEST_TASK_SLEEP_MS: '150' } });
    for (const n of [1, 2, 3]) r.submit({ id: `job-${n}`, route: 'compositor-on-manifest', env: { CAPSTAN_COMPOSITOR_MANIFEST_KEY: `rec_${n}/manifest.json` } });
    expect(r.stats).toMatchObject({ submitted: 3, running: 1, queued: 2 });
    await r.whenIdle();
    const done = ends().sort((a, b) => a.started - b.started);
    expect(done.map((d) => d.env['CAPSTAN_COMPOSITOR_MANIFEST_KEY'])).toEqual(['rec_1/manifest.json', 'rec_2/manifest.json', 'rec_3/manifest.json']);
    expect(done.every((d) => d.env['CAPSTAN_BUCKET'] === 'media-x')).toBe(true);
    for (let i = 1; i < done.length; i++) expect(done[i]!.started).toBeGreaterThanOrEqual(done[i - 1]!.ended);
    expect(r.stats).toMatchObject({ started: 3, succeeded: 3, failed: 0, running: 0, queued: 0, maxRunning: 1, exits: { '0': 3 } });
    // Relative paths resolve from the repository root, as in the image's WORKDIR.
    expect(starts()[0]!.cwd).toBe(process.cwd());
  });

  it('runs up to `concurrency` jobs at once', async () => {
    const r = runner({ concurrency: 2, env: { CAPSTAN_TEST_TASK_SLEEP_MS: '400' } });
    for (const n of [1, 2, 3, 4]) r.submit({ id: `job-${n}`, route: 'r', env: {} });
    await r.whenIdle();
    expect(r.stats.maxRunning).toBe(2);
    const done = ends().sort((a, b) => a.started - b.started);
    expect(done).toHaveLength(4);
    expect(done[1]!.started).toBeLessThan(done[0]!.ended);
  });

  it('counts exit codes and spawn failures, and logs failures with the stderr tail', async () => {
    const lines: string[] = [];
    const r = runner({ concurrency: 3, logger: createLogger('info', {}, (line) => lines.push(line)) });
    const results: TaskResult[] = [];
    r.onExit((result) => results.push(result));
    r.submit({ id: 'ok', route: 'r', env: {} });
    r.submit({ id: 'three', route: 'r', env: { CAPSTAN_TEST_TASK_EXIT_CODE: '3' } });
    await r.whenIdle();
    const missing = runner({ command: ['/nonexistent/capstan-task'] });
    missing.submit({ id: 'enoent', route: 'r', env: {} });
    await missing.whenIdle();
    expect(r.stats).toMatchObject({ succeeded: 1, failed: 1, exits: { '0': 1, '3': 1 } });
    expect(missing.stats).toMatchObject({ started: 0, failed: 1, exits: { 'spawn-error': 1 } });
    expect(results.find((x) => x.job.id === 'three')).toMatchObject({ code: 3, signal: null });
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'info', message: 'task started', jobId: 'ok', route: 'r', task: 'compositor' }));
    expect(logs).toContainEqual(expect.objectContaining({ level: 'info', message: 'task exited', jobId: 'ok', code: 0 }));
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'task failed', jobId: 'three', code: 3, stderrTail: 'fixture stderr line' }));
  });

  it('passes the job\'s stdout and stderr lines through', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = runner({ stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    r.submit({ id: 'j', route: 'r', env: {} });
    await r.whenIdle();
    expect(JSON.parse(out[0]!)).toMatchObject({ message: 'fixture task started' });
    expect(err).toEqual(['fixture stderr line']);
  });

  it('does not let the runtime\'s own trigger variables leak into a job', async () => {
    const names = taskTriggerEnvNames('compositor');
    const saved = process.env['CAPSTAN_COMPOSITOR_RECORDING_ID'];
    process.env['CAPSTAN_COMPOSITOR_RECORDING_ID'] = 'rec_from_the_shell';
    try {
      const r = runner({ clearEnv: names });
      r.submit({ id: 'j', route: 'compositor-on-manifest', env: { CAPSTAN_COMPOSITOR_BUCKET: 'b', CAPSTAN_COMPOSITOR_MANIFEST_KEY: 'k/manifest.json' } });
      await r.whenIdle();
    } finally {
      if (saved === undefined) delete process.env['CAPSTAN_COMPOSITOR_RECORDING_ID'];
      else process.env['CAPSTAN_COMPOSITOR_RECORDING_ID'] = saved;
    }
    const [done] = ends();
    expect(Object.keys(done!.env).filter((k) => names.includes(k)).sort()).toEqual(['CAPSTAN_COMPOSITOR_BUCKET', 'CAPSTAN_COMPOSITOR_MANIFEST_KEY']);
  });

  it('kills what a finished job left behind (its process group)', async () => {
    const r = runner({ env: { CAPSTAN_TEST_TASK_GRANDCHILD: '1' } });
    r.submit({ id: 'j', route: 'r', env: {} });
    await r.whenIdle();
    const [start] = starts();
    expect(start!.grandchildPid).toBeGreaterThan(0);
    await until(() => !alive(start!.grandchildPid!));
  });

  it('stops at shutdown: drops the queue, SIGTERMs the group, SIGKILLs after the grace', async () => {
    const r = runner({ concurrency: 2, env: { CAPSTAN_TEST_TASK_SLEEP_MS: '60000', CAPSTAN_TEST_TASK_GRANDCHILD: '1' } });
    const results: TaskResult[] = [];
    r.onExit((result) => results.push(result));
    r.submit({ id: 'polite', route: 'r', env: {} });
    r.submit({ id: 'stubborn', route: 'r', env: { CAPSTAN_TEST_TASK_IGNORE_TERM: '1' } });
    r.submit({ id: 'queued', route: 'r', env: {} });
    await until(() => starts().length === 2);
    const pids = starts().flatMap((s) => [s.pid, s.grandchildPid!]);
    const stopped = Date.now();
    await r.stop(500);
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(450);
    expect(results.map((x) => [x.job.id, x.signal]).sort()).toEqual([
      ['polite', 'SIGTERM'],
      ['stubborn', 'SIGKILL'],
    ]);
    expect(r.stats).toMatchObject({ dropped: 1, failed: 2, running: 0, queued: 0, exits: { SIGTERM: 1, SIGKILL: 1 } });
    await until(() => pids.every((pid) => !alive(pid)));
    expect(existsSync(join(dir, `${starts()[0]!.pid}.json`))).toBe(false);
    // A stopped runner takes no more work.
    r.submit({ id: 'late', route: 'r', env: {} });
    expect(r.stats.dropped).toBe(2);
    await r.whenIdle();
  });
});
