/**
 * bench:events — event appended → webhook received, through the local runtime.
 *
 * Starts `local/main.ts` as a child process (DynamoDB Local, local-aws-sqs, the publisher on
 * the real stream, the webhook fan-out and retry consumers) and a receiver in this process
 * that verifies every request with the `standardwebhooks` library. `--endpoints` webhook
 * subscriptions each take `recording.requested`; every create appends one event, so each
 * create makes `endpoints` deliveries.
 *
 * Latency of a delivery: the receiver's clock when the request arrives minus the event's
 * `occurred_at` (stamped just before the append, same machine clock).
 *   1. latency: open loop at `--rate` creates/s for `--duration` s;
 *   2. throughput: `--burst` creates as fast as `--concurrency` allows; deliveries/s from the
 *      first create to the last delivery.
 *
 *   npm run bench:events -- --rate 10 --duration 20 --endpoints 4 --burst 400 [--memory]
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRuntimeProcess } from '../../test/support/runtime-process.ts';
import { startWebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { diffCpu, treeCpuMs } from '../lib/proc.ts';
import { appendResult } from '../lib/results.ts';
import { summarize } from '../lib/stats.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '20' },
    endpoints: { type: 'string', default: '4' },
    burst: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    memory: { type: 'boolean', default: false },
    /** Print only; do not append to bench/RESULTS.md. */
    'dry-run': { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const durationS = Number(values.duration);
const endpointCount = Number(values.endpoints);
const burst = Number(values.burst);
const concurrency = Number(values.concurrency);

const apiKey = 'bench-events-key-0123456789abcdef';
const dataDir = mkdtempSync(join(tmpdir(), 'capstan-bench-events-'));
const receiver = await startWebhookReceiver();
const runtime = await startRuntimeProcess({
  CAPSTAN_DATA_DIR: dataDir,
  CAPSTAN_DEV_API_KEY: apiKey,
  CAPSTAN_LOG_LEVEL: 'warn',
  CAPSTAN_DYNAMODB_IN_MEMORY: String(values.memory),
  CAPSTAN_RECORDER_ENABLED: 'false',
  CAPSTAN_COMPOSITOR_ENABLED: 'false',
  CAPSTAN_WEBHOOK_ALLOWLIST: '127.0.0.1',
  // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the runtime (and its children).
  ...(process.env['CAPSTAN_BENCH_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['CAPSTAN_BENCH_NODE_OPTIONS'] } : {}),
});
const url = new URL(runtime.url);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent, headers: { authorization: `Bearer ${apiKey}`, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

for (let i = 0; i < endpointCount; i++) {
  const path = `/endpoint-${i}`;
  const created = await call('POST', '/v1/webhooks', { url: receiver.url(path), event_types: ['recording.requested'] });
  if (created.status !== 201) throw new Error(`webhook registration failed: ${created.status} ${JSON.stringify(created.json)}`);
  receiver.secrets.set(path, created.json['secret'] as string);
}

/** Wall-clock receipt time per delivery: the receiver stamps `performance.now()`; convert to epoch ms. */
const epochOffset = Date.now() - performance.now();
const latencyOf = (from: number, to: number) =>
  receiver.requests.slice(from, to).map((r) => r.receivedAt + epochOffset - Date.parse(String(r.event['occurred_at'])));

async function create(): Promise<void> {
  const res = await call('POST', '/v1/recordings', { source: { type: 'rtp' } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status}`);
}

// Warm-up: connections, JIT, tables.
for (let i = 0; i < 5; i++) await create();
await receiver.waitFor(() => receiver.requests.length >= 5 * endpointCount, 60_000);

// 1. Latency, open loop.
const cpuBefore = treeCpuMs(runtime.child.pid!);
let start = receiver.requests.length;
const total = rate * durationS;
const began = performance.now();
const pending: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = began + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(create());
}
await Promise.all(pending);
await receiver.waitFor(() => receiver.requests.length >= start + total * endpointCount, 120_000);
const latency = summarize(latencyOf(start, start + total * endpointCount));
const cpu = diffCpu(cpuBefore, treeCpuMs(runtime.child.pid!));

// 2. Throughput, a burst.
start = receiver.requests.length;
const burstCpuBefore = treeCpuMs(runtime.child.pid!);
const burstBegan = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < burst) {
      next++;
      await create();
    }
  }),
);
const appendedMs = performance.now() - burstBegan;
await receiver.waitFor(() => receiver.requests.length >= start + burst * endpointCount, 300_000);
const lastAt = Math.max(...receiver.requests.slice(start).map((r) => r.receivedAt));
const burstCpu = diffCpu(burstCpuBefore, treeCpuMs(runtime.child.pid!));
const perDelivery = (cpuMs: Map<string, number>, deliveries: number) => Object.fromEntries([...cpuMs].filter(([, v]) => v > 0).map(([k, v]) => [k, Math.round((v / deliveries) * 100) / 100]));
const burstMs = lastAt - burstBegan;
const deliveriesPerSecond = Math.round((burst * endpointCount * 1000) / burstMs);
const burstLatency = summarize(latencyOf(start, start + burst * endpointCount));
const duplicates = receiver.requests.length - receiver.applied.size;

const result = {
  endpoints: endpointCount,
  latency_phase: { creates_per_s: rate, seconds: durationS, deliveries: total * endpointCount, latency_ms: latency, cpu_ms_per_delivery: perDelivery(cpu, total * endpointCount) },
  burst_phase: { creates: burst, deliveries: burst * endpointCount, appended_in_ms: Math.round(appendedMs), all_received_in_ms: Math.round(burstMs), deliveries_per_s: deliveriesPerSecond, latency_ms: burstLatency, cpu_ms_per_delivery: perDelivery(burstCpu, burst * endpointCount) },
  rejected_signatures: receiver.rejected.length,
  duplicate_requests: duplicates,
};
console.log(JSON.stringify(result, null, 2));

if (!values['dry-run']) {
  appendResult(`bench:events (event appended → webhook received, ${endpointCount} endpoints, DynamoDB Local ${values.memory ? 'in memory' : 'on disk'})`, [
    `Latency, open loop ${rate} creates/s × ${durationS} s (${total * endpointCount} deliveries): p50 ${latency.p50} ms, p90 ${latency.p90} ms, p99 ${latency.p99} ms, max ${latency.max} ms.`,
    `Throughput, burst of ${burst} creates (${burst * endpointCount} deliveries, concurrency ${concurrency}): appended in ${Math.round(appendedMs)} ms, all received in ${Math.round(burstMs)} ms → ${deliveriesPerSecond} deliveries/s; latency under the burst p50 ${burstLatency.p50} ms, p99 ${burstLatency.p99} ms.`,
    `Signatures verified by standardwebhooks at the receiver: ${receiver.requests.length} requests, ${receiver.rejected.length} rejected, ${duplicates} duplicates.`,
    `CPU ms per delivery (latency phase, idle polling included): ${Object.entries(result.latency_phase.cpu_ms_per_delivery).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `CPU ms per delivery (burst): ${Object.entries(result.burst_phase.cpu_ms_per_delivery).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  ]);
}

agent.destroy();
await runtime.stop('SIGTERM');
await receiver.close();
rmSync(dataDir, { recursive: true, force: true });
