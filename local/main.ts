/**
 * `npm start`: the whole system locally, offline. Ctrl-C (SIGINT) or SIGTERM stops it
 * cleanly; data stays under CAPSTAN_DATA_DIR for the next start.
 */
import { LocalConfigSchema, readConfig } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { startLocalRuntime } from './runtime.ts';

const config = readConfig(LocalConfigSchema, process.env);
const logger = createLogger(config.CAPSTAN_LOG_LEVEL, { service: 'capstan-local' });
const runtime = await startLocalRuntime(config, logger);

for (const key of runtime.keys) {
  if (key.generated) process.stderr.write(`\nDev API key for tenant "${key.tenantId}" (kept in ${config.CAPSTAN_DATA_DIR}/dev-api-key):\n  ${key.apiKey}\n\n`);
}
process.stderr.write(`Capstan is listening on ${runtime.url}  (try: curl ${runtime.url}/health)\n`);

let signals = 0;
const shutdown = (signal: string) => {
  if (++signals > 1) process.exit(1);
  logger.info('shutting down', { signal });
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  runtime.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error('shutdown failed', { error });
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
