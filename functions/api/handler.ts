/** Lambda entry for the HTTP API: config read once per container, adapters built once. */
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildAdapters } from '../../shared/wiring.ts';
import { createApiHandler } from './app.ts';

const config = readConfig(CoreConfigSchema, process.env);
const adapters = buildAdapters(config);

export const handler = createApiHandler({
  service: adapters.service,
  tenantForApiKey: adapters.tenantForApiKey,
  presign: adapters.presign,
  webhooks: adapters.webhooks,
  feed: adapters.feed,
  feedSettleMs: config.CAPSTAN_FEED_SETTLE_MS,
  clock: adapters.clock,
  healthChecks: adapters.healthChecks,
  logger: createLogger(config.CAPSTAN_LOG_LEVEL, { fn: 'api' }),
  maxBodyBytes: config.CAPSTAN_MAX_BODY_BYTES,
});
