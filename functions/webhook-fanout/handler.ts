/** Lambda entry for the webhook fanout queue: config read once per container, adapters built once. */
import { sqsClient } from '../../shared/aws/clients.ts';
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildAdapters, buildWebhookDispatcher } from '../../shared/wiring.ts';
import { createWebhookFanoutHandler } from './app.ts';

const config = readConfig(CoreConfigSchema, process.env);
const adapters = buildAdapters(config);
const logger = createLogger(config.CAPSTAN_LOG_LEVEL, { fn: 'webhook-fanout' });

export const handler = createWebhookFanoutHandler({
  dispatcher: buildWebhookDispatcher(adapters, config, { sqs: sqsClient(config), logger }),
  logger,
});
