/**
 * The recorder task: a long-running process (a Fargate service in the cloud, a child of
 * `npm start` locally, or on its own). SIGTERM finishes and uploads every open recording and
 * exits 0; SIGINT stops hard (leases lapse, another recorder recovers from S3). A forced exit
 * fires before ECS's stop timeout would SIGKILL us mid-upload.
 */
import { sqsClient } from '../shared/aws/clients.ts';
import { createLogger } from '../shared/logger.ts';
import { buildAdapters } from '../shared/wiring.ts';
import { readRecorderConfig, type RecorderConfig } from './config.ts';
import { recorderMetrics } from './observability.ts';
import { serveRecorderHttp } from './http.ts';
import { withPublicHost } from './public-host.ts';
import { TaskProtection } from './task-protection.ts';
import { RecorderWorker } from './worker.ts';

const settings = readRecorderConfig(process.env);
const logger = createLogger(settings.CAPSTAN_LOG_LEVEL, { service: 'capstan-recorder', recorderId: settings.CAPSTAN_RECORDER_ID });
if (!settings.CAPSTAN_RECORDER_QUEUE_URL) {
  logger.error('CAPSTAN_RECORDER_QUEUE_URL is required');
  process.exit(2);
}
// Before taking any job: a recording must never be claimed with an address senders cannot reach.
let config: RecorderConfig;
try {
  config = await withPublicHost(settings);
} catch (error) {
  logger.error('could not discover the public host to advertise; exiting', { error, url: settings.CAPSTAN_RECORDER_PUBLIC_IP_URL });
  process.exit(2);
}
const adapters = buildAdapters(config);
const protection = new TaskProtection({ agentUri: config.ECS_AGENT_URI, windowMinutes: config.CAPSTAN_RECORDER_PROTECTION_MINUTES, logger });
const worker = new RecorderWorker({
  config,
  store: adapters.store,
  service: adapters.service,
  s3: adapters.s3,
  logger,
  sqs: sqsClient(config),
  queueUrl: settings.CAPSTAN_RECORDER_QUEUE_URL,
  onActiveChange: (active) => void protection.busy(active),
});
const observability = recorderMetrics(worker, config, protection);
const http = await serveRecorderHttp({
  host: config.CAPSTAN_RECORDER_HTTP_HOST,
  port: config.CAPSTAN_RECORDER_HTTP_PORT,
  health: observability.health,
  metrics: observability.render,
});
worker.start();
logger.info('recorder ready', { http: http.url, ports: config.CAPSTAN_RECORDER_PORT_RANGE.join('-'), publicHost: config.CAPSTAN_RECORDER_PUBLIC_HOST });
process.stdout.write(`${JSON.stringify({ ready: true, port: Number(new URL(http.url).port) })}\n`);

let exiting = false;
const gracefulStop = () => {
  if (exiting) return;
  exiting = true;
  logger.info('stopping gracefully: finishing open recordings', { sessions: worker.sessions.size });
  const force = setTimeout(() => {
    logger.error('graceful stop took too long; exiting before the stop timeout');
    process.exit(1);
  }, config.CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS * 1000);
  force.unref();
  worker.shutdown('shutdown').then(
    () => {
      http.server.close();
      process.exit(0);
    },
    (error: unknown) => {
      logger.error('graceful stop failed', { error });
      process.exit(1);
    },
  );
};
process.on('SIGTERM', gracefulStop);
// Started by `npm start`: when the parent goes away, its pipe closes; finish like on SIGTERM.
if (process.env['CAPSTAN_RECORDER_EXIT_WITH_PARENT'] === 'true') {
  process.stdin.on('end', gracefulStop);
  process.stdin.resume();
}
process.on('SIGINT', () => {
  logger.warn('SIGINT: stopping hard; open recordings will be recovered from S3 by the next recorder');
  worker.abortNow();
  process.exit(130);
});
