/** Lambda entry for the event-store stream: the publisher. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { EventBridgeBus } from '../../shared/integration/bus.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildAdapters } from '../../shared/wiring.ts';
import { createPublishHandler } from './app.ts';

const config = readConfig(CoreConfigSchema, process.env);
const adapters = buildAdapters(config);

export const handler = createPublishHandler({
  projection: adapters.projection,
  feed: adapters.feed,
  bus: new EventBridgeBus(new EventBridgeClient({ region: config.AWS_REGION }), config.CAPSTAN_EVENT_BUS_NAME),
  logger: createLogger(config.CAPSTAN_LOG_LEVEL, { fn: 'publish' }),
  publicUrl: () => config.CAPSTAN_PUBLIC_URL,
});
