/**
 * The recorder task run standalone, as a Fargate task runs it: DynamoDB Local, s3rver and
 * local-aws-sqs as child processes (on a temporary data directory), the tables, bucket and
 * queues bootstrapped as the cloud stack would create them, the domain driven directly through
 * the adapters (create, register tracks, stop), jobs enqueued by the local EventBridge stand-in
 * exactly as the publisher would route `recording.requested`, and `recorder-task/main.ts`
 * spawned as a child process with its own environment.
 *
 * Isolation inside one file: every test takes its own job queue (same attributes and
 * dead-letter queue as `recorder-jobs`) and every recorder process its own slice of UDP ports,
 * so a leftover job or a sender still running cannot reach another test's recorder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { bootstrap, type QueueUrls } from '../../local/bootstrap.ts';
import { LocalEventRouter } from '../../local/event-router.ts';
import { startDynamoDbLocal } from '../../local/servers/dynamodb-local.ts';
import { startS3rver, startSqs } from '../../local/servers/s3-sqs.ts';
import type { RunningServer } from '../../local/servers/child.ts';
import { sqsClient } from '../../shared/aws/clients.ts';
import { CoreConfigSchema, readConfig, type CoreConfig } from '../../shared/config.ts';
import type { StoredEvent } from '../../shared/eventstore/port.ts';
import { toIntegrationEvent } from '../../shared/integration/integration-event.ts';
import { silentLogger } from '../../shared/logger.ts';
import { ManifestSchema, type Manifest } from '../../shared/recording/manifest.ts';
import { QUEUES } from '../../shared/topology.ts';
import type { TrackDescriptorInput } from '../../shared/recording/tracks.ts';
import { TrackDescriptorSchema } from '../../shared/recording/tracks.ts';
import { foldRecording, type RecordingView } from '../../shared/recording/view.ts';
import { buildAdapters, type Adapters } from '../../shared/wiring.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'recorder-task', 'main.ts');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; the error names what was awaited. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export interface RecorderStack {
  readonly dataDir: string;
  readonly config: CoreConfig;
  readonly adapters: Adapters;
  readonly sqs: SQSClient;
  readonly queues: QueueUrls;
  readonly endpoints: { dynamodb: string; s3: string; sqs: string };
  readonly tenantId: string;
  /** A fresh job queue shaped like `recorder-jobs` (visibility, redrive to its DLQ). */
  jobQueue(): Promise<string>;
  /** A fresh slice of the file's port range for one recorder process. */
  portSlice(): string;
  /** Create an rtp recording, register its tracks, and enqueue the job as the publisher would. */
  createRecording(options: { queueUrl: string; tracks?: TrackDescriptorInput[]; name?: string }): Promise<string>;
  /** Route the recording's `recording.requested` integration event through the local EventBridge stand-in. */
  enqueueJob(recordingId: string, queueUrl: string): Promise<void>;
  view(recordingId: string): Promise<RecordingView>;
  events(recordingId: string): Promise<StoredEvent[]>;
  waitForStatus(recordingId: string, status: RecordingView['status'] | ((view: RecordingView) => boolean), timeoutMs?: number): Promise<RecordingView>;
  stopRecording(recordingId: string): Promise<void>;
  /** The manifest the recording's RecordingStopped points at, read back from S3. */
  manifest(view: RecordingView): Promise<Manifest>;
  /** Download an object to a local file (for ffprobe); returns the path. */
  download(key: string): Promise<string>;
  /** Make S3 unreachable: stop s3rver (the port then refuses connections). */
  stopS3(): Promise<void>;
  /** Bring s3rver back on the same port and data directory. */
  startS3(): Promise<void>;
  readonly s3Up: boolean;
  /** Kill every process this stack started (recorders, senders, servers) and remove its files. */
  stop(): Promise<void>;
  /** Register a child so `stop` cleans it up. */
  track(child: ChildProcess): void;
}

export interface StackOptions {
  /** First port of this file's UDP range; each recorder process gets `slice` ports of it. */
  readonly portBase: number;
  readonly portCount?: number;
  readonly slice?: number;
}

export async function startRecorderStack(options: StackOptions): Promise<RecorderStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'capstan-recorder-harness-'));
  const s3Dir = join(dataDir, 's3');
  const [dynamodb, firstS3, sqsServer] = await Promise.all([
    startDynamoDbLocal({ inMemory: true }),
    startS3rver({ dataDir: s3Dir }),
    startSqs(),
  ]);
  let s3Server: RunningServer | null = firstS3;
  const s3Port = firstS3.port;
  const children = new Set<ChildProcess>();
  const endpoints = { dynamodb: dynamodb.endpoint, s3: firstS3.endpoint, sqs: sqsServer.endpoint };
  const config = readConfig(CoreConfigSchema, {
    CAPSTAN_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    CAPSTAN_S3_ENDPOINT: endpoints.s3,
    CAPSTAN_SQS_ENDPOINT: endpoints.sqs,
    CAPSTAN_LOG_LEVEL: 'silent',
  });
  const adapters = buildAdapters(config);
  const sqs = sqsClient(config);
  let queues: QueueUrls;
  try {
    queues = (await bootstrap({ dynamo: adapters.dynamo, s3: adapters.s3, sqs, config }))!;
  } catch (error) {
    await Promise.all([dynamodb.stop(), firstS3.stop(), sqsServer.stop()]);
    throw error;
  }
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.recorderJobs.dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const tenantId = 'tenant-recorder-harness';
  const ctx = { tenantId };
  const downloads = join(dataDir, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const portCount = options.portCount ?? 200;
  const sliceSize = options.slice ?? 16;
  let nextSlice = 0;

  const stack: RecorderStack = {
    dataDir,
    config,
    adapters,
    sqs,
    queues,
    endpoints,
    tenantId,
    get s3Up() {
      return s3Server !== null;
    },
    async jobQueue() {
      const name = `${QUEUES.recorderJobs.name}-${randomBytes(4).toString('hex')}`;
      const created = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(QUEUES.recorderJobs.visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: QUEUES.recorderJobs.maxReceiveCount }),
          },
        }),
      );
      return created.QueueUrl!;
    },
    portSlice() {
      const slices = Math.floor(portCount / sliceSize);
      const first = options.portBase + (nextSlice++ % slices) * sliceSize;
      return `${first}-${first + sliceSize - 1}`;
    },
    async createRecording({ queueUrl, tracks, name }) {
      const { view } = await adapters.service.create(ctx, { source: { type: 'rtp', room_id: 'room-harness' }, recording_name: name ?? 'harness' });
      if (tracks && tracks.length > 0) await adapters.service.registerTracks(ctx, view.id, tracks.map((t) => TrackDescriptorSchema.parse(t)));
      await stack.enqueueJob(view.id, queueUrl);
      return view.id;
    },
    async enqueueJob(recordingId, queueUrl) {
      const events = await adapters.store.readStream(recordingId);
      const requested = events.find((e) => e.type === 'RecordingRequested');
      if (!requested) throw new Error(`${recordingId} has no RecordingRequested event`);
      // What the publisher does for this stream record: the view after it, then the integration event.
      const integration = toIntegrationEvent(requested, foldRecording(events.filter((e) => e.version <= requested.version))!);
      const router = new LocalEventRouter(sqs, { ...queues, recorderJobs: { url: queueUrl, dlqUrl: queues.recorderJobs.dlqUrl } }, silentLogger);
      await router.publish([integration!]);
      if (router.stats.routed !== 1) throw new Error('recording.requested was not routed to the recorder queue');
    },
    view: (recordingId) => adapters.service.get(ctx, recordingId),
    events: (recordingId) => adapters.store.readStream(recordingId),
    waitForStatus(recordingId, status, timeoutMs = 60_000) {
      const matches = typeof status === 'function' ? status : (v: RecordingView) => v.status === status;
      let last: RecordingView | undefined;
      return waitFor(
        `${recordingId} to reach ${typeof status === 'function' ? 'the expected state' : status}`,
        async () => {
          last = await adapters.service.get(ctx, recordingId);
          return matches(last) ? last : undefined;
        },
        timeoutMs,
        150,
      ).catch((error: Error) => {
        throw new Error(`${error.message} (last status: ${last?.status})`);
      });
    },
    async stopRecording(recordingId) {
      await adapters.service.execute(ctx, recordingId, 'StopRecording');
    },
    async manifest(view) {
      if (!view.manifest) throw new Error(`${view.id} has no manifest`);
      const object = await adapters.s3.send(new GetObjectCommand({ Bucket: config.CAPSTAN_BUCKET, Key: view.manifest.key }));
      return ManifestSchema.parse(JSON.parse(Buffer.from(await object.Body!.transformToByteArray()).toString('utf8')));
    },
    async download(key) {
      const object = await adapters.s3.send(new GetObjectCommand({ Bucket: config.CAPSTAN_BUCKET, Key: key }));
      const path = join(downloads, `${randomBytes(3).toString('hex')}-${key.replaceAll('/', '_')}`);
      writeFileSync(path, Buffer.from(await object.Body!.transformToByteArray()));
      return path;
    },
    async stopS3() {
      const server = s3Server;
      s3Server = null;
      await server?.stop();
    },
    async startS3() {
      if (s3Server !== null) return;
      // Same port (the recorder's endpoint is fixed) and same data directory (what it stored stays).
      // TIME_WAIT does not block a listening socket; retry briefly in case the port is still held.
      s3Server = await waitFor(`s3rver back on port ${s3Port}`, () => startS3rver({ port: s3Port, dataDir: s3Dir }).catch(() => undefined), 15_000, 250);
    },
    track(child) {
      children.add(child);
      child.once('exit', () => children.delete(child));
    },
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all([dynamodb.stop(), s3Server?.stop(), sqsServer.stop()]);
      adapters.dynamo.destroy();
      adapters.s3.destroy();
      sqs.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly atMs: number;
}

export interface RecorderHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly id: string;
  readonly httpUrl: string;
  readonly env: Record<string, string>;
  /** Structured log lines so far (the recorder logs JSON to stdout). */
  logs(): LogLine[];
  stderr(): string;
  readonly exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** Send a signal; resolves when the process has exited. */
  signal(signal: NodeJS.Signals): Promise<ExitInfo>;
  health(): Promise<{ status: number; body: Record<string, unknown> }>;
  metricsText(): Promise<string>;
  /** Samples of `/metrics`: `name{labels}` → value. */
  metrics(): Promise<Map<string, number>>;
}

export interface RecorderOptions {
  readonly queueUrl: string;
  /** Distinct per process: leases and claims name it. */
  readonly id?: string;
  readonly env?: Record<string, string>;
  /** Share another recorder's spill directory (a restart on the same host); default: a fresh one (a new Fargate task). */
  readonly spillDir?: string;
}

/** `node --import tsx recorder-task/main.ts`, ready once it prints `{"ready":true,"port":N}`. */
export async function startRecorder(stack: RecorderStack, options: RecorderOptions, timeoutMs = 60_000): Promise<RecorderHandle> {
  const id = options.id ?? `recorder-test-${randomBytes(3).toString('hex')}`;
  const dir = join(stack.dataDir, 'recorders', id);
  const env: Record<string, string> = {
    CAPSTAN_DYNAMODB_ENDPOINT: stack.endpoints.dynamodb,
    CAPSTAN_S3_ENDPOINT: stack.endpoints.s3,
    CAPSTAN_SQS_ENDPOINT: stack.endpoints.sqs,
    CAPSTAN_EVENTS_TABLE: stack.config.CAPSTAN_EVENTS_TABLE,
    CAPSTAN_RECORDINGS_TABLE: stack.config.CAPSTAN_RECORDINGS_TABLE,
    CAPSTAN_API_KEYS_TABLE: stack.config.CAPSTAN_API_KEYS_TABLE,
    CAPSTAN_IDEMPOTENCY_TABLE: stack.config.CAPSTAN_IDEMPOTENCY_TABLE,
    CAPSTAN_BUCKET: stack.config.CAPSTAN_BUCKET,
    CAPSTAN_RECORDER_ID: id,
    CAPSTAN_RECORDER_QUEUE_URL: options.queueUrl,
    CAPSTAN_RECORDER_SPILL_DIR: options.spillDir ?? join(dir, 'spill'),
    CAPSTAN_RECORDER_WORK_DIR: join(dir, 'work'),
    CAPSTAN_RECORDER_HTTP_PORT: '0',
    CAPSTAN_RECORDER_LEASE_SECONDS: '3',
    CAPSTAN_RECORDER_SEGMENT_SECONDS: '1',
    CAPSTAN_RECORDER_PORT_RANGE: stack.portSlice(),
    CAPSTAN_LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  };
  // Nothing of the test runner's own CAPSTAN_* settings leaks into the task.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAPSTAN_')));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  stack.track(child);
  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, atMs: Date.now() })));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`recorder ${id} not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`recorder ${id} exited (${code ?? signal}) before it was ready: ${stderr}\n${JSON.stringify(logs.slice(-5))}`));
    });
    lines.on('line', (line) => {
      if (line.startsWith('{"ready":true')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
        return;
      }
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 'raw', message: line });
      }
    });
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  const handle: RecorderHandle = {
    child,
    pid: child.pid!,
    id,
    httpUrl,
    env,
    logs: () => logs,
    stderr: () => stderr,
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    signal(signal) {
      if (handle.running) child.kill(signal);
      return exited;
    },
    async health() {
      const response = await fetch(`${httpUrl}/health`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async metricsText() {
      return (await fetch(`${httpUrl}/metrics`)).text();
    },
    async metrics() {
      return parsePrometheus(await handle.metricsText());
    },
  };
  return handle;
}

export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

export interface Sender {
  readonly child: ChildProcess;
  readonly startedAtMs: number;
  readonly exited: Promise<ExitInfo>;
  stop(): Promise<ExitInfo>;
}

/** A real-time ffmpeg RTP sender: Opus (PT 97) and, unless audio only, VP8 (PT 96); RTCP SRs to port+1. */
export function startSender(stack: RecorderStack, target: { host: string; port: number }, options: { seconds: number; audioSsrc: number; videoSsrc?: number }): Sender {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${options.seconds}`];
  if (options.videoSsrc !== undefined) args.push('-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${options.seconds}`);
  args.push('-map', '0:a', '-c:a', 'libopus', '-ssrc', String(options.audioSsrc), '-payload_type', '97', '-f', 'rtp', `rtp://${target.host}:${target.port}`);
  if (options.videoSsrc !== undefined) {
    args.push('-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', '-ssrc', String(options.videoSsrc), '-payload_type', '96', '-f', 'rtp', `rtp://${target.host}:${target.port}`);
  }
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'ignore'] });
  stack.track(child);
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, atMs: Date.now() })));
  return {
    child,
    startedAtMs: Date.now(),
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The registered descriptors for `startSender`'s streams. */
export function senderTracks(audioSsrc: number, videoSsrc?: number): TrackDescriptorInput[] {
  return [
    { ssrc: audioSsrc, payload_type: 97, codec: 'opus', peer_id: 'alice', track_type: 'microphone' },
    ...(videoSsrc === undefined ? [] : [{ ssrc: videoSsrc, payload_type: 96, codec: 'VP8', peer_id: 'alice', track_type: 'camera' as const }]),
  ];
}

/** Wait until a recorder claimed the recording and started; returns its RTP ingest endpoint. */
export async function waitForIngest(stack: RecorderStack, recordingId: string, timeoutMs = 30_000): Promise<{ host: string; port: number; view: RecordingView }> {
  const view = await stack.waitForStatus(recordingId, 'recording', timeoutMs);
  if (!view.ingest || view.ingest.protocol !== 'rtp') throw new Error(`${recordingId} has no rtp ingest endpoint`);
  return { host: view.ingest.host, port: view.ingest.port, view };
}

/** Event types in stream order. */
export const typesOf = (events: readonly StoredEvent[]) => events.map((e) => e.type);
