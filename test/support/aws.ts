/** Per-file isolated resources on the shared local servers: fresh table and bucket names. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { readConfig, CoreConfigSchema, type CoreConfig } from '../../shared/config.ts';
import { buildAdapters, buildDeliveryLog } from '../../shared/wiring.ts';
import { bootstrap } from '../../local/bootstrap.ts';
import type { ApiDeps } from '../../functions/api/app.ts';
import { silentLogger } from '../../shared/logger.ts';
import type { Clock, IdGenerator } from '../../shared/clock.ts';

export function isolatedConfig(overrides: Record<string, string> = {}): CoreConfig {
  const suffix = randomBytes(4).toString('hex');
  return readConfig(CoreConfigSchema, {
    CAPSTAN_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
    CAPSTAN_S3_ENDPOINT: inject('s3Endpoint'),
    CAPSTAN_SQS_ENDPOINT: inject('sqsEndpoint'),
    CAPSTAN_EVENTS_TABLE: `events-${suffix}`,
    CAPSTAN_RECORDINGS_TABLE: `recordings-${suffix}`,
    CAPSTAN_API_KEYS_TABLE: `api-keys-${suffix}`,
    CAPSTAN_IDEMPOTENCY_TABLE: `idempotency-${suffix}`,
    CAPSTAN_FEED_TABLE: `feed-${suffix}`,
    CAPSTAN_WEBHOOKS_TABLE: `webhooks-${suffix}`,
    CAPSTAN_DELIVERIES_TABLE: `deliveries-${suffix}`,
    CAPSTAN_BUCKET: `media-${suffix}`,
    CAPSTAN_LOG_LEVEL: 'silent',
    ...overrides,
  });
}

/** Adapters on freshly created tables and bucket. */
export async function isolatedAdapters(options: { clock?: Clock; ids?: IdGenerator; overrides?: Record<string, string> } = {}) {
  const config = isolatedConfig(options.overrides);
  const adapters = buildAdapters(config, options);
  await bootstrap({ dynamo: adapters.dynamo, s3: adapters.s3, config });
  return { config, ...adapters };
}

/** The API handler's dependencies from isolated adapters (silent logs, no health checks unless given). */
export function apiDepsFor(adapters: Awaited<ReturnType<typeof isolatedAdapters>>, overrides: Partial<ApiDeps> = {}): ApiDeps {
  return {
    service: adapters.service,
    tenantForApiKey: adapters.tenantForApiKey,
    webhooks: adapters.webhooks,
    // Replays need a retry queue; tests that replay pass a dispatcher on real queues.
    deliveries: buildDeliveryLog(adapters, {
      replay: () => Promise.reject(new Error('this test has no webhook retry queue')),
      replayEvent: () => Promise.reject(new Error('this test has no webhook retry queue')),
    }),
    presign: adapters.presign,
    feed: adapters.feed,
    feedSettleMs: adapters.config.CAPSTAN_FEED_SETTLE_MS,
    clock: adapters.clock,
    healthChecks: {},
    logger: silentLogger,
    maxBodyBytes: 256 * 1024,
    ...overrides,
  };
}
