/**
 * The whole system on one machine: DynamoDB Local, s3rver and local-aws-sqs as child
 * processes; the API handler behind a local HTTP server; the publisher fed from the real
 * DynamoDB stream; queue consumers fed from the real queues. Same handlers, same adapters
 * as the cloud; only the wiring differs.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createApiHandler } from '../functions/api/app.ts';
import { createMediaCleanupHandler } from '../functions/media-cleanup/app.ts';
import { createPublishHandler } from '../functions/publish/app.ts';
import { sqsClient } from '../shared/aws/clients.ts';
import { systemClock } from '../shared/clock.ts';
import type { LocalConfig } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import { QUEUES, taskTriggerEnvNames, TASKS, ROUTES, type QueueKey } from '../shared/topology.ts';
import { buildAdapters, buildDeliveryLog, buildWebhookDispatcher } from '../shared/wiring.ts';
import { createWebhookFanoutHandler } from '../functions/webhook-fanout/app.ts';
import { createWebhookRetryHandler } from '../functions/webhook-retry/app.ts';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { bootstrap } from './bootstrap.ts';
import { seedDevKeys, type SeededKey } from './dev-keys.ts';
import { LocalEventRouter } from './event-router.ts';
import { invokeLocally } from './lambda-context.ts';
import { serveHttpApi } from './http-adapter.ts';
import { startQueueConsumer } from './queue-consumer.ts';
import { reconcileLocalWork } from './reconcile.ts';
import { startRecorderProcess, type RecorderProcess } from './recorder-process.ts';
import { startDynamoDbLocal } from './servers/dynamodb-local.ts';
import { startS3rver, startSqs } from './servers/s3-sqs.ts';
import { startStreamPoller } from './stream-poller.ts';
import { LOCAL_ACCOUNT, routeS3ObjectEvents, taskEnvironment, TaskDispatcher, TaskRunner } from './task-runner.ts';

export interface LocalRuntime {
  readonly url: string;
  readonly keys: readonly SeededKey[];
  readonly endpoints: { dynamodb: string; s3: string; sqs: string };
  readonly router: LocalEventRouter;
  readonly recorder: RecorderProcess | null;
  /** Task routes: the dispatcher both buses feed, and the compositor's runner (null when disabled). */
  readonly tasks: { readonly dispatcher: TaskDispatcher; readonly compositor: TaskRunner | null };
  readonly config: LocalConfig;
  stop(): Promise<void>;
}

export async function startLocalRuntime(base: LocalConfig, logger: Logger): Promise<LocalRuntime> {
  const dataDir = resolve(base.CAPSTAN_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  const [dynamodb, s3, sqs] = await Promise.all([
    startDynamoDbLocal({ port: base.CAPSTAN_DYNAMODB_PORT, dataDir: join(dataDir, 'dynamodb'), inMemory: base.CAPSTAN_DYNAMODB_IN_MEMORY }),
    startS3rver({ port: base.CAPSTAN_S3_PORT, dataDir: join(dataDir, 's3') }),
    startSqs({ port: base.CAPSTAN_SQS_PORT }),
  ]);
  const servers = [dynamodb, s3, sqs];
  try {
    const config: LocalConfig = Object.freeze({
      ...base,
      CAPSTAN_DYNAMODB_ENDPOINT: dynamodb.endpoint,
      CAPSTAN_S3_ENDPOINT: s3.endpoint,
      CAPSTAN_SQS_ENDPOINT: sqs.endpoint,
    });
    const adapters = buildAdapters(config);
    const sqsApi = sqsClient(config);
    const queues = await bootstrap({ dynamo: adapters.dynamo, s3: adapters.s3, sqs: sqsApi, config });
    const keys = await seedDevKeys(adapters.apiKeys, systemClock, { devKey: config.CAPSTAN_DEV_API_KEY, devKeys: config.CAPSTAN_DEV_API_KEYS, dataDir });

    // Task routes (shared/topology.ts TASK_ROUTES), as EventBridge rules with an ECS RunTask
    // target: S3 object events on the "default bus" and integration events on the Capstan bus
    // start compositor jobs as child processes.
    const compositorWorkDir = join(dataDir, 'compositor', 'work');
    mkdirSync(compositorWorkDir, { recursive: true });
    const compositor = config.CAPSTAN_COMPOSITOR_ENABLED
      ? new TaskRunner({
          task: 'compositor',
          command: config.CAPSTAN_COMPOSITOR_COMMAND ?? TASKS.compositor.command,
          env: taskEnvironment(config, { CAPSTAN_COMPOSITOR_WORK_DIR: compositorWorkDir }),
          clearEnv: taskTriggerEnvNames('compositor'),
          concurrency: config.CAPSTAN_COMPOSITOR_CONCURRENCY,
          logger: logger.child({ component: 'task-runner' }),
        })
      : null;
    const tasks = new TaskDispatcher({
      bindings: { mediaBucket: config.CAPSTAN_BUCKET },
      runners: compositor ? { compositor } : {},
      logger: logger.child({ component: 'task-dispatcher' }),
    });
    const stopS3Events = routeS3ObjectEvents(s3, tasks, {
      buckets: [config.CAPSTAN_BUCKET],
      account: LOCAL_ACCOUNT,
      region: config.AWS_REGION,
      logger: logger.child({ component: 'task-dispatcher' }),
    });
    const nudges = new Map<QueueKey, () => void>();
    const router = new LocalEventRouter(sqsApi, queues!, logger.child({ component: 'event-router' }), ROUTES, tasks, (queue) => nudges.get(queue)?.());
    // The API's address, once it listens (file_url links in integration events).
    let publicUrl: string | undefined;
    const poller = startStreamPoller({
      dynamo: adapters.dynamo,
      streams: new DynamoDBStreamsClient({ region: config.AWS_REGION, endpoint: dynamodb.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
      tableName: config.CAPSTAN_EVENTS_TABLE,
      handler: invokeLocally('publish', createPublishHandler({ projection: adapters.projection, feed: adapters.feed, bus: router, logger: logger.child({ fn: 'publish' }), publicUrl: () => config.CAPSTAN_PUBLIC_URL ?? publicUrl })),
      stateDir: join(dataDir, 'runtime'),
      logger: logger.child({ component: 'stream-poller' }),
      pollMs: config.CAPSTAN_STREAM_POLL_MS,
    });
    // SQS event source mappings: each queue's Lambda-shaped handler, fed from the real queue.
    const consume = async (queue: QueueKey, name: string, handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>, pollers = 1) => {
      const consumer = startQueueConsumer({
        sqs: sqsApi,
        queueUrl: queues![queue].url,
        queueArn: (await sqsApi.send(new GetQueueAttributesCommand({ QueueUrl: queues![queue].url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '',
        handler: invokeLocally(name, handler),
        logger: logger.child({ component: 'queue-consumer', queue: QUEUES[queue].name }),
        pollers,
      });
      nudges.set(queue, () => consumer.nudge());
      return consumer;
    };
    const dispatcher = buildWebhookDispatcher(adapters, config, {
      sqs: sqsApi,
      logger: logger.child({ fn: 'webhooks' }),
      retryQueueUrl: queues!.webhookRetries.url,
      deadLetterQueueUrl: queues!.webhookRetries.dlqUrl,
    });
    const consumers = [
      await consume('mediaCleanup', 'media-cleanup', createMediaCleanupHandler({ s3: adapters.s3, bucket: config.CAPSTAN_BUCKET, readModel: adapters.readModel, logger: logger.child({ fn: 'media-cleanup' }) })),
      await consume('webhookEvents', 'webhook-fanout', createWebhookFanoutHandler({ dispatcher, logger: logger.child({ fn: 'webhook-fanout' }) }), 4),
      await consume('webhookRetries', 'webhook-retry', createWebhookRetryHandler({ dispatcher, logger: logger.child({ fn: 'webhook-retry' }) }), 2),
    ];
    // Local SQS lives in memory: retries that were waiting when the runtime last stopped are
    // gone with it, but their deliveries are still pending in the table. Put them back.
    try {
      const requeued = await dispatcher.requeuePending();
      if (requeued > 0) logger.info('webhook deliveries pending since the last run are back on the retry queue', { requeued });
    } catch (error) {
      logger.error('could not requeue pending webhook deliveries; replay them from the delivery log', { error });
    }
    // So do recorder jobs and compositor triggers: put back what the tables say is owed.
    try {
      await reconcileLocalWork({
        docs: adapters.docs,
        recordingsTable: config.CAPSTAN_RECORDINGS_TABLE,
        store: adapters.store,
        recorderJobs: (events) => router.resend(events, 'recorderJobs'),
        objectCreated: (event) => void tasks.dispatch('default', event),
        bucket: config.CAPSTAN_BUCKET,
        account: LOCAL_ACCOUNT,
        region: config.AWS_REGION,
        logger: logger.child({ component: 'reconcile' }),
      });
    } catch (error) {
      logger.error('could not reconcile unfinished recordings from the last run', { error });
    }

    const recorder = config.CAPSTAN_RECORDER_ENABLED
      ? await startRecorderProcess({
          CAPSTAN_DYNAMODB_ENDPOINT: dynamodb.endpoint,
          CAPSTAN_S3_ENDPOINT: s3.endpoint,
          CAPSTAN_SQS_ENDPOINT: sqs.endpoint,
          CAPSTAN_RECORDER_QUEUE_URL: queues!.recorderJobs.url,
          CAPSTAN_RECORDER_SPILL_DIR: join(dataDir, 'recorder', 'spill'),
          CAPSTAN_RECORDER_WORK_DIR: join(dataDir, 'recorder', 'work'),
          CAPSTAN_RECORDER_HTTP_PORT: process.env['CAPSTAN_RECORDER_HTTP_PORT'] ?? '0',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        })
      : null;

    const api = createApiHandler({
      service: adapters.service,
      tenantForApiKey: adapters.tenantForApiKey,
      presign: adapters.presign,
      webhooks: adapters.webhooks,
      deliveries: buildDeliveryLog(adapters, dispatcher),
      feed: adapters.feed,
      feedSettleMs: config.CAPSTAN_FEED_SETTLE_MS,
      clock: adapters.clock,
      healthChecks: adapters.healthChecks,
      logger: logger.child({ fn: 'api' }),
      maxBodyBytes: config.CAPSTAN_MAX_BODY_BYTES,
    });
    // A write through the API appended events: read the stream now instead of at the next poll.
    const server = serveHttpApi(async (event, context) => {
      const response = await api(event, context);
      if (event.requestContext.http.method !== 'GET') poller.nudge();
      return response;
    });
    server.listen(config.CAPSTAN_HTTP_PORT, config.CAPSTAN_HTTP_HOST);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.CAPSTAN_HTTP_HOST}:${port}`;
    publicUrl = url;
    logger.info('capstan local runtime ready', {
      url,
      dataDir,
      startupMs: Math.round(performance.now() - started),
      dynamodb: dynamodb.endpoint,
      s3: s3.endpoint,
      sqs: sqs.endpoint,
      recorder: recorder?.httpUrl ?? 'disabled',
      compositor: compositor ? `${config.CAPSTAN_COMPOSITOR_CONCURRENCY} at once` : 'disabled',
    });

    let stopping: Promise<void> | undefined;
    return {
      url,
      keys,
      endpoints: { dynamodb: dynamodb.endpoint, s3: s3.endpoint, sqs: sqs.endpoint },
      router,
      recorder,
      tasks: { dispatcher: tasks, compositor },
      config,
      stop: () =>
        (stopping ??= (async () => {
          server.closeIdleConnections();
          await new Promise<void>((r) => server.close(() => r()));
          // Compositor jobs first (queued ones are dropped, running ones stopped: their
          // compositions' leases lapse), so the recorder's last manifests start nothing new.
          stopS3Events();
          await compositor?.stop(5_000);
          // The recorder next: it finishes open recordings while the servers are still up.
          await recorder?.stop(30_000);
          await poller.stop();
          // Local SQS is in memory: let the consumers finish what the queues still hold.
          const drained = await Promise.all(consumers.map((c) => c.drain(5_000)));
          if (drained.includes(false)) logger.warn('queues not drained before the stop; webhook retries are requeued at the next start', { drained });
          await Promise.all(consumers.map((c) => c.stop()));
          await Promise.all(servers.map((s) => s.stop()));
          logger.info('capstan local runtime stopped');
        })()),
    };
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
}
