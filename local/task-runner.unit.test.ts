import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ConfigError, LocalConfigSchema, parseCommandLine, readConfig } from '../shared/config.ts';
import type { IntegrationEvent } from '../shared/integration/integration-event.ts';
import { createLogger, silentLogger } from '../shared/logger.ts';
import { TASK_ROUTES, type TaskRoute } from '../shared/topology.ts';
import type { QueueUrls } from './bootstrap.ts';
import { LocalEventRouter } from './event-router.ts';
import type { S3ObjectNotification } from './servers/s3-sqs.ts';
import { objectCreatedFromNotification, routeS3ObjectEvents, taskEnvironment, TaskDispatcher, type TaskJob } from './task-runner.ts';

const BUCKET = 'capstan-media';

function recorder() {
  const jobs: TaskJob[] = [];
  return { jobs, submit: (job: TaskJob) => jobs.push(job) };
}

/** As aws-server.mjs forwards s3rver's notification of a PutObject. */
const notification = (key: string, overrides: Partial<S3ObjectNotification> = {}): S3ObjectNotification => ({
  eventName: 'ObjectCreated:Put',
  bucket: BUCKET,
  key,
  size: 812,
  etag: '0f343b0931126a20f133d67c2b018a3b',
  sequencer: '19C2E3F4A5B',
  requestId: '4A1B2C3D4E5F6A7B',
  sourceIp: '::ffff:127.0.0.1',
  time: '2026-03-01T10:11:12.345Z',
  ...overrides,
});

const integrationEvent = (type: IntegrationEvent['type'], data: Record<string, unknown> = {}): IntegrationEvent => ({
  id: '01J00000000000000000000001',
  type,
  recording_id: 'rec_01J00000000000000000000000',
  tenant_id: 'tenant-a',
  sequence: 3,
  occurred_at: '2026-03-01T10:00:00.000Z',
  source_type: 'rtp',
  metadata: {},
  data,
});

describe('objectCreatedFromNotification', () => {
  it('turns an s3rver PutObject notification into the EventBridge "Object Created" event', () => {
    const event = objectCreatedFromNotification(notification('tenant-a/rec_1/manifest.json'), { account: '000000000000', region: 'us-east-1' });
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: '2026-03-01T10:11:12Z',
      region: 'us-east-1',
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: {
        version: '0',
        'event-version': '1.0',
        bucket: { name: BUCKET },
        object: { key: 'tenant-a/rec_1/manifest.json', size: 812, etag: '0f343b0931126a20f133d67c2b018a3b', sequencer: '19C2E3F4A5B' },
        'request-id': '4A1B2C3D4E5F6A7B',
        requester: '000000000000',
        'source-ip-address': '127.0.0.1',
        reason: 'PutObject',
      },
    });
  });

  it('maps multipart completions and ignores deletions', () => {
    const options = { account: '000000000000', region: 'us-east-1' };
    expect(objectCreatedFromNotification(notification('a/manifest.json', { eventName: 'ObjectCreated:CompleteMultipartUpload' }), options)?.detail.reason).toBe('CompleteMultipartUpload');
    expect(objectCreatedFromNotification(notification('a/manifest.json', { eventName: 'ObjectRemoved:Delete' }), options)).toBeNull();
  });
});

describe('TaskDispatcher', () => {
  const dispatcher = () => {
    const compositor = recorder();
    return { compositor, tasks: new TaskDispatcher({ bindings: { mediaBucket: BUCKET }, runners: { compositor }, logger: silentLogger }) };
  };
  const s3 = (key: string, bucket = BUCKET) => objectCreatedFromNotification(notification(key, { bucket }), { account: '000000000000', region: 'us-east-1' });

  it('starts one compositor job for a manifest in the media bucket, with the route\'s environment', () => {
    const { compositor, tasks } = dispatcher();
    const event = s3('tenant-a/rec_1/manifest.json')!;
    expect(tasks.dispatch('default', event)).toEqual(['compositor-on-manifest']);
    expect(compositor.jobs).toEqual([
      {
        id: `compositor-on-manifest:${event.id}`,
        route: 'compositor-on-manifest',
        env: { CAPSTAN_COMPOSITOR_BUCKET: BUCKET, CAPSTAN_COMPOSITOR_MANIFEST_KEY: 'tenant-a/rec_1/manifest.json' },
      },
    ]);
  });

  it('starts nothing for other keys, other buckets, or an S3 event on the Capstan bus', () => {
    const { compositor, tasks } = dispatcher();
    tasks.dispatch('default', s3('tenant-a/rec_1/tracks/trk_1/seg-000001.bin'));
    tasks.dispatch('default', s3('tenant-a/rec_1/composite.mp4'));
    tasks.dispatch('default', s3('tenant-a/rec_1/manifest.json', 'other-bucket'));
    tasks.dispatch('capstan', s3('tenant-a/rec_1/manifest.json'));
    expect(compositor.jobs).toEqual([]);
    expect(tasks.stats).toEqual({ events: 4, matched: 0, submitted: 0, invalid: 0 });
  });

  it('starts nothing when the task has no runner (CAPSTAN_COMPOSITOR_ENABLED=false)', () => {
    const tasks = new TaskDispatcher({ bindings: { mediaBucket: BUCKET }, runners: {}, logger: silentLogger });
    expect(tasks.dispatch('default', s3('a/manifest.json'))).toEqual([]);
  });

  it('refuses, and logs, a match that lacks a mapped path', () => {
    const compositor = recorder();
    const lines: string[] = [];
    const tasks = new TaskDispatcher({
      bindings: { mediaBucket: BUCKET },
      runners: { compositor },
      logger: createLogger('error', {}, (line) => lines.push(line)),
    });
    const requested = { id: 'e-1', source: 'capstan.recordings', 'detail-type': 'composition.requested', detail: { recording_id: 'rec_1', data: { trigger: 'api' } } };
    expect(tasks.dispatch('capstan', requested)).toEqual(['compositor-on-request']);
    expect(compositor.jobs).toEqual([]);
    expect(tasks.stats.invalid).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', route: 'compositor-on-request', missing: ['CAPSTAN_COMPOSITOR_COMPOSITION_ID'] });
  });

  it('refuses a route table with unsupported pattern syntax at construction', () => {
    const bad: TaskRoute = { ...TASK_ROUTES[0]!, eventPattern: { source: [{ 'anything-but': 'x' } as never] } };
    expect(() => new TaskDispatcher({ routes: [bad], bindings: { mediaBucket: BUCKET }, runners: { compositor: recorder() }, logger: silentLogger })).toThrow(/unsupported matcher/);
  });
});

describe('routeS3ObjectEvents', () => {
  it('feeds the media bucket\'s object events to the default bus and ignores other buckets', () => {
    let listener: ((event: S3ObjectNotification) => void) | undefined;
    const s3 = { onObjectEvent: (l: (event: S3ObjectNotification) => void) => ((listener = l), () => (listener = undefined)) };
    const dispatched: { bus: string; event: unknown }[] = [];
    const stop = routeS3ObjectEvents(s3, { dispatch: (bus, event) => (dispatched.push({ bus, event }), []) }, { buckets: [BUCKET], account: '000000000000', region: 'us-east-1', logger: silentLogger });
    listener!(notification('a/manifest.json'));
    listener!(notification('a/manifest.json', { bucket: 'not-eventbridge-enabled' }));
    listener!(notification('a/manifest.json', { eventName: 'ObjectRemoved:Delete' }));
    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]).toMatchObject({ bus: 'default', event: { source: 'aws.s3', detail: { object: { key: 'a/manifest.json' } } } });
    stop();
    expect(listener).toBeUndefined();
  });
});

describe('LocalEventRouter with task routes', () => {
  const queues: QueueUrls = {
    recorderJobs: { url: 'http://sqs/recorder-jobs', dlqUrl: 'http://sqs/recorder-jobs-dlq' },
    mediaCleanup: { url: 'http://sqs/media-cleanup', dlqUrl: 'http://sqs/media-cleanup-dlq' },
    webhookEvents: { url: 'http://sqs/webhook-events', dlqUrl: 'http://sqs/webhook-events-dlq' },
    webhookRetries: { url: 'http://sqs/webhook-retries', dlqUrl: 'http://sqs/webhook-retries-dlq' },
  };

  it('starts a compositor job for composition.requested with the same envelope id the queues would see', async () => {
    const sent: unknown[] = [];
    const sqs = { send: async (command: { input: unknown }) => (sent.push(command.input), {}) } as unknown as SQSClient;
    const compositor = recorder();
    const tasks = new TaskDispatcher({ bindings: { mediaBucket: BUCKET }, runners: { compositor }, logger: silentLogger });
    const router = new LocalEventRouter(sqs, queues, silentLogger, undefined, tasks);
    await router.publish([
      integrationEvent('composition.requested', { composition_id: 'cmp_9', layout: null, trigger: 'api' }),
      integrationEvent('composition.requested', { composition_id: 'cmp_0', layout: null, trigger: 'manifest', initial: true }),
      integrationEvent('recording.requested', { source: { type: 'rtp' } }),
    ]);
    expect(compositor.jobs).toEqual([
      {
        id: expect.stringMatching(/^compositor-on-request:[0-9a-f-]{36}$/),
        route: 'compositor-on-request',
        env: { CAPSTAN_COMPOSITOR_RECORDING_ID: 'rec_01J00000000000000000000000', CAPSTAN_COMPOSITOR_COMPOSITION_ID: 'cmp_9' },
      },
    ]);
    // The manifest job's own announcement starts no task; recording.requested goes to its
    // queue and starts no task; every event also goes to the webhook dispatcher.
    expect(sent.map((input) => (input as { QueueUrl: string }).QueueUrl)).toEqual([
      queues.webhookEvents.url,
      queues.webhookEvents.url,
      queues.recorderJobs.url,
      queues.webhookEvents.url,
    ]);
    expect(router.stats).toEqual({ published: 3, routed: 3, unrouted: 0 });
  });

  it('starts no task when the queue send fails (the publisher retries the whole record)', async () => {
    const sqs = { send: async () => Promise.reject(new Error('sqs down')) } as unknown as SQSClient;
    const compositor = recorder();
    const tasks = new TaskDispatcher({ bindings: { mediaBucket: BUCKET }, runners: { compositor }, logger: silentLogger });
    const router = new LocalEventRouter(sqs, queues, silentLogger, undefined, tasks);
    await expect(router.publish([integrationEvent('recording.requested', { source: { type: 'rtp' } }), integrationEvent('composition.requested', { composition_id: 'c', trigger: 'api' })])).rejects.toThrow('sqs down');
    expect(compositor.jobs).toEqual([]);
  });
});

describe('compositor configuration', () => {
  it('defaults: enabled, one at a time, the topology command', () => {
    const config = readConfig(LocalConfigSchema, {});
    expect(config.CAPSTAN_COMPOSITOR_ENABLED).toBe(true);
    expect(config.CAPSTAN_COMPOSITOR_CONCURRENCY).toBe(1);
    expect(config.CAPSTAN_COMPOSITOR_COMMAND).toBeUndefined();
    expect(readConfig(LocalConfigSchema, { CAPSTAN_COMPOSITOR_ENABLED: 'false' }).CAPSTAN_COMPOSITOR_ENABLED).toBe(false);
  });

  it('reads the command as a JSON array, or else a string split on whitespace', () => {
    expect(readConfig(LocalConfigSchema, { CAPSTAN_COMPOSITOR_COMMAND: '["node","my dir/job.mjs","--x"]' }).CAPSTAN_COMPOSITOR_COMMAND).toEqual(['node', 'my dir/job.mjs', '--x']);
    expect(readConfig(LocalConfigSchema, { CAPSTAN_COMPOSITOR_COMMAND: '  node   test/fixtures/task-env.mjs /tmp/out ' }).CAPSTAN_COMPOSITOR_COMMAND).toEqual(['node', 'test/fixtures/task-env.mjs', '/tmp/out']);
    expect(parseCommandLine('ffmpeg')).toEqual(['ffmpeg']);
  });

  it.each([
    ['CAPSTAN_COMPOSITOR_COMMAND', '["node",'],
    ['CAPSTAN_COMPOSITOR_COMMAND', '[]'],
    ['CAPSTAN_COMPOSITOR_COMMAND', '["node", 1]'],
    ['CAPSTAN_COMPOSITOR_COMMAND', '   '],
    ['CAPSTAN_COMPOSITOR_CONCURRENCY', '0'],
    ['CAPSTAN_COMPOSITOR_ENABLED', 'yes'],
  ])('refuses %s=%j naming the variable', (name, value) => {
    expect(() => readConfig(LocalConfigSchema, { [name]: value })).toThrow(ConfigError);
    expect(() => readConfig(LocalConfigSchema, { [name]: value })).toThrow(name);
  });

  it('gives a job the resource names and local endpoints of the runtime', () => {
    const config = readConfig(LocalConfigSchema, { CAPSTAN_S3_ENDPOINT: 'http://127.0.0.1:4569', CAPSTAN_BUCKET: 'media-x' });
    expect(taskEnvironment(config, { CAPSTAN_COMPOSITOR_WORK_DIR: '/w' })).toMatchObject({
      CAPSTAN_EVENTS_TABLE: 'capstan-events',
      CAPSTAN_RECORDINGS_TABLE: 'capstan-recordings',
      CAPSTAN_BUCKET: 'media-x',
      CAPSTAN_S3_ENDPOINT: 'http://127.0.0.1:4569',
      CAPSTAN_COMPOSITOR_WORK_DIR: '/w',
    });
    expect(taskEnvironment(config)).not.toHaveProperty('CAPSTAN_DYNAMODB_ENDPOINT');
  });
});
