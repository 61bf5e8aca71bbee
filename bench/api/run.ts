/**
 * bench:api — create + get against the local runtime, from a second process.
 *
 * Starts `local/main.ts` as a child (or uses CAPSTAN_BENCH_URL + CAPSTAN_BENCH_API_KEY) and
 * drives it open-loop at a fixed rate: requests leave on schedule whether or not earlier ones
 * answered, so a slow server shows up as latency instead of hiding (no coordinated omission).
 * Half the requests create a recording, half get a recording created earlier.
 *
 *   npm run bench:api -- --rate 500 --duration 60
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRuntimeProcess } from '../../test/support/runtime-process.ts';
import { diffCpu, treeCpuMs } from '../lib/proc.ts';
import { appendResult } from '../lib/results.ts';
import { summarize } from '../lib/stats.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    /** Optional sweep, e.g. `100,200,300,400,500`: one measurement per rate, to show where latency turns. */
    rates: { type: 'string' },
    duration: { type: 'string', default: '60' },
    /** Run DynamoDB Local in memory instead of on disk (shows what the disk's fsyncs cost). */
    memory: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '5' },
  },
});
const rates = (values.rates ?? values.rate).split(',').map(Number);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);

const apiKey = process.env.CAPSTAN_BENCH_API_KEY ?? 'bench-key-0123456789abcdef';
let dataDir: string | undefined;
let runtime: Awaited<ReturnType<typeof startRuntimeProcess>> | undefined;
let baseUrl = process.env.CAPSTAN_BENCH_URL;
if (!baseUrl) {
  dataDir = mkdtempSync(join(tmpdir(), 'capstan-bench-'));
  runtime = await startRuntimeProcess({
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_DEV_API_KEY: apiKey,
    CAPSTAN_LOG_LEVEL: 'warn',
    CAPSTAN_DYNAMODB_IN_MEMORY: String(values.memory),
  });
  baseUrl = runtime.url;
}
const url = new URL(baseUrl);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

interface Sample {
  op: 'create' | 'get';
  ms: number;
  serverMs: number;
  status: number;
}

function call(method: string, path: string, body?: string): Promise<{ status: number; body: string; serverMs: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent, headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const timing = /dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), serverMs: timing ? Number(timing[1]) : Number.NaN });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const created: string[] = [];
const createBody = (i: number) => JSON.stringify({ source: { type: 'rtp' }, recording_name: `bench ${i}`, metadata: { bench: true, i } });

async function one(i: number, record: boolean, samples: Sample[]) {
  const op: Sample['op'] = i % 2 === 0 || created.length === 0 ? 'create' : 'get';
  const t0 = performance.now();
  try {
    const res = op === 'create' ? await call('POST', '/v1/recordings', createBody(i)) : await call('GET', `/v1/recordings/${created[(i * 7919) % created.length]}`);
    const ms = performance.now() - t0;
    if (op === 'create' && res.status === 201) created.push((JSON.parse(res.body) as { id: string }).id);
    if (record) samples.push({ op, ms, serverMs: res.serverMs, status: res.status });
  } catch {
    if (record) samples.push({ op, ms: performance.now() - t0, serverMs: Number.NaN, status: 0 });
  }
}

async function drive(rate: number, seconds: number, record: boolean): Promise<{ samples: Sample[]; elapsedS: number }> {
  const samples: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  const total = Math.round(rate * seconds);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const p = one(sent++, record, samples).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    // Sleep until the next request is due (timers have ~1 ms resolution; no busy spin).
    await new Promise((r) => setTimeout(r, Math.max(0, ((sent + 1) / rate) * 1000 - (performance.now() - start))));
  }
  await Promise.all(inflight);
  return { samples, elapsedS: (performance.now() - start) / 1000 };
}

async function measure(rate: number) {
  const cpuBefore = process.cpuUsage();
  const treeBefore = runtime ? treeCpuMs(runtime.child.pid!) : new Map<string, number>();
  const { samples, elapsedS } = await drive(rate, durationS, true);
  const cpu = process.cpuUsage(cpuBefore);
  const tree = runtime ? diffCpu(treeBefore, treeCpuMs(runtime.child.pid!)) : new Map<string, number>();
  const ok = samples.filter((s) => s.status >= 200 && s.status < 300);
  const byOp = (op: Sample['op']) => summarize(ok.filter((s) => s.op === op).map((s) => s.ms));
  return {
    target_rps: rate,
    achieved_rps: Math.round(samples.length / elapsedS),
    requests: samples.length,
    errors: samples.length - ok.length,
    latency_ms: summarize(ok.map((s) => s.ms)),
    server_ms: summarize(ok.map((s) => s.serverMs).filter(Number.isFinite)),
    create_ms: byOp('create'),
    get_ms: byOp('get'),
    load_generator_cpu_pct: Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100),
    /** CPU milliseconds per request, per process of the runtime: where the time goes. */
    cpu_ms_per_request: Object.fromEntries([...tree].filter(([, ms]) => ms > 0).map(([name, ms]) => [name, Math.round((ms / samples.length) * 100) / 100])),
  };
}

console.error(`warming up ${warmupS} s at ${rates[0]} req/s …`);
await drive(rates[0]!, warmupS, false);
const results = [];
for (const rate of rates) {
  console.error(`measuring ${durationS} s at ${rate} req/s …`);
  const r = await measure(rate);
  results.push(r);
  console.log(JSON.stringify(r));
  console.log(`rps ${r.achieved_rps}  p50 ${r.latency_ms.p50} ms  p99 ${r.latency_ms.p99} ms  (in handler: p50 ${r.server_ms.p50} ms, p99 ${r.server_ms.p99} ms)  errors ${r.errors}`);
}
appendResult(`bench:api (create + get, open loop, ${durationS} s per rate, DynamoDB Local ${values.memory ? 'in memory' : 'on disk'})`, [
  '| target req/s | achieved | errors | p50 ms | p90 ms | p99 ms | handler p50 | handler p99 | create p99 | get p99 |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.target_rps} | ${r.achieved_rps} | ${r.errors} | ${r.latency_ms.p50} | ${r.latency_ms.p90} | ${r.latency_ms.p99} | ${r.server_ms.p50} | ${r.server_ms.p99} | ${r.create_ms.p99} | ${r.get_ms.p99} |`),
  '',
  'CPU ms per request by process (at each rate): ' + results.map((r) => `${r.target_rps}/s → ${Object.entries(r.cpu_ms_per_request).map(([n, ms]) => `${n} ${ms}`).join(', ')}`).join('; '),
]);
agent.destroy();
await runtime?.stop('SIGTERM');
if (dataDir) rmSync(dataDir, { recursive: true, force: true });
