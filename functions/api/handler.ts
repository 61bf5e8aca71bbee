/** Lambda entry for the HTTP API: config read once per container, adapters built once. */
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { sqsClient } from '../../shared/aws/clients.ts';
import { buildAdapters, buildDeliveryLog, buildWebhookDispatcher } from '../../shared/wiring.ts';
import { createApiHandler } from './app.ts';

const config = readConfig(CoreConfigSchema, process.env);
const adapters = buildAdapters(config);
const logger = createLogger(config.CAPSTAN_LOG_LEVEL, { fn: 'api' });
// Replays go through the webhook retry queue.
const dispatcher = buildWebhookDispatcher(adapters, config, { sqs: sqsClient(config), logger });

export const handler = createApiHandler({
  service: adapters.service,
  tenantForApiKey: adapters.tenantForApiKey,
  presign: adapters.presign,
  webhooks: adapters.webhooks,
  deliveries: buildDeliveryLog(adapters, dispatcher),
  feed: adapters.feed,
  feedSettleMs: config.CAPSTAN_FEED_SETTLE_MS,
  clock: adapters.clock,
  healthChecks: adapters.healthChecks,
  logger,
  maxBodyBytes: config.CAPSTAN_MAX_BODY_BYTES,
});
