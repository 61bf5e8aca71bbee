/**
 * Compositor job entry: one process per trigger (ECS RunTask in the cloud, a child process
 * of `npm start` locally). Exit 0 when the composition completed or the trigger was a
 * duplicate; 1 when it failed (the failure is in the recording's events); 2 on bad config.
 */
import { ConfigError } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { buildAdapters } from '../../shared/wiring.ts';
import { readCompositorConfig, triggerOf, type CompositorConfig } from './config.ts';
import { runCompositionJob } from './job.ts';

let config: CompositorConfig;
try {
  config = readCompositorConfig(process.env);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(2);
}
const logger = createLogger(config.CAPSTAN_LOG_LEVEL, { service: 'capstan-compositor', compositorId: config.CAPSTAN_COMPOSITOR_ID });
const adapters = buildAdapters(config);
const outcome = await runCompositionJob(
  {
    store: adapters.store,
    service: adapters.service,
    s3: adapters.s3,
    bucket: config.CAPSTAN_BUCKET,
    logger,
    compositorId: config.CAPSTAN_COMPOSITOR_ID,
    leaseSeconds: config.CAPSTAN_COMPOSITOR_LEASE_SECONDS,
    ...(config.CAPSTAN_COMPOSITOR_PARALLELISM > 0 ? { parallelism: config.CAPSTAN_COMPOSITOR_PARALLELISM } : {}),
    preset: config.CAPSTAN_COMPOSITOR_X264_PRESET,
    ...(config.CAPSTAN_COMPOSITOR_WORK_DIR ? { workRoot: config.CAPSTAN_COMPOSITOR_WORK_DIR } : {}),
  },
  triggerOf(config),
);
process.stdout.write(`${JSON.stringify({ outcome: outcome.status, recording_id: outcome.recording_id, composition_id: outcome.composition_id })}\n`);
adapters.dynamo.destroy();
adapters.s3.destroy();
process.exit(outcome.status === 'failed' ? 1 : 0);
