/**
 * bench:eventstore — appends per second through the DynamoDB adapter against DynamoDB Local
 * (the same jar `npm start` runs, on disk like the runtime keeps it).
 *
 * Closed loop with C concurrent writers, each appending one event per call to its own
 * streams (the common case: one command → one event), then the same with 3-event batches
 * (TransactWriteItems).
 *
 *   npm run bench:eventstore -- --duration 20 --concurrency 32
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable } from '../../local/bootstrap.ts';
import { startDynamoDbLocal } from '../../local/servers/dynamodb-local.ts';
import { documentClient, dynamoDbClient } from '../../shared/aws/clients.ts';
import { DynamoDbEventStore } from '../../shared/eventstore/dynamodb.ts';
import type { NewEvent } from '../../shared/eventstore/port.ts';
import { EVENTS_TABLE } from '../../shared/tables.ts';
import { appendResult } from '../lib/results.ts';
import { summarize } from '../lib/stats.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '20' }, concurrency: { type: 'string', default: '32' }, memory: { type: 'boolean', default: false } } });
const durationS = Number(values.duration);
const concurrency = Number(values.concurrency);

const dataDir = mkdtempSync(join(tmpdir(), 'capstan-bench-es-'));
const server = await startDynamoDbLocal(values.memory ? { inMemory: true } : { dataDir });
const dynamo = dynamoDbClient({ AWS_REGION: 'us-east-1', CAPSTAN_DYNAMODB_ENDPOINT: server.endpoint });
await ensureTable(dynamo, EVENTS_TABLE, 'bench-events');
const store = new DynamoDbEventStore(documentClient(dynamo), 'bench-events');

const event = (i: number): NewEvent => ({
  event_id: `evt_${i}`,
  type: 'RecordingRequested',
  schema_version: 1,
  occurred_at: new Date().toISOString(),
  tenant_id: 'bench',
  correlation_id: null,
  causation_id: null,
  data: { recording_id: `rec_${i}`, source: { type: 'rtp' }, metadata: { client_id: 'client-xyz', i }, outputs: ['composite.mp4'] },
});

async function run(label: string, eventsPerAppend: number, seconds: number) {
  const latencies: number[] = [];
  let appended = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      // Each writer extends its own streams: append at v0, v1, … like a command per event.
      let stream = `bench-${label}-${worker}-0`;
      let version = 0;
      while (performance.now() < deadline) {
        const batch = Array.from({ length: eventsPerAppend }, () => event(next++));
        const t0 = performance.now();
        await store.appendToStream(stream, version, batch);
        latencies.push(performance.now() - t0);
        appended += batch.length;
        version += batch.length;
        if (version >= 30) {
          stream = `bench-${label}-${worker}-${next}`;
          version = 0;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { appendsPerS: Math.round(latencies.length / elapsed), eventsPerS: Math.round(appended / elapsed), latency: summarize(latencies) };
}

await run('warmup', 1, 5);
const single = await run('single', 1, durationS);
const batched = await run('batch', 3, durationS);
console.log(JSON.stringify({ concurrency, storage: values.memory ? 'memory' : 'disk', single, batched }, null, 2));
console.log(`single-event appends: ${single.appendsPerS}/s (p50 ${single.latency.p50} ms, p99 ${single.latency.p99} ms); 3-event transactions: ${batched.appendsPerS}/s = ${batched.eventsPerS} events/s`);
appendResult(`bench:eventstore (DynamoDB Local on ${values.memory ? 'memory' : 'disk'}, ${concurrency} writers, ${durationS} s)`, [
  `- single-event conditional Put: ${single.appendsPerS} appends/s, p50 ${single.latency.p50} ms, p99 ${single.latency.p99} ms`,
  `- 3-event TransactWriteItems: ${batched.appendsPerS} appends/s (${batched.eventsPerS} events/s), p50 ${batched.latency.p50} ms, p99 ${batched.latency.p99} ms`,
]);
dynamo.destroy();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
