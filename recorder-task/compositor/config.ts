/**
 * Compositor job configuration, read once at start. A job is one process per trigger: the
 * manifest's object-created event (bucket + key) or a composition request (recording id +
 * composition id). In the cloud these come as ECS container overrides from the EventBridge
 * rule; locally the runtime's task runner sets them.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreConfigSchema, readConfig } from '../../shared/config.ts';
import { DEFAULT_COMPOSITION_LEASE_SECONDS } from '../../shared/composition/model.ts';

export const CompositorConfigSchema = CoreConfigSchema.extend({
  CAPSTAN_COMPOSITOR_BUCKET: z.string().min(1).optional(),
  CAPSTAN_COMPOSITOR_MANIFEST_KEY: z.string().min(1).optional(),
  CAPSTAN_COMPOSITOR_RECORDING_ID: z.string().min(1).optional(),
  CAPSTAN_COMPOSITOR_COMPOSITION_ID: z.string().min(1).optional(),
  /** Identity in the composition's lease; a Fargate task uses its task id. */
  CAPSTAN_COMPOSITOR_ID: z.string().min(1).default(`compositor-${hostname()}-${process.pid}`),
  CAPSTAN_COMPOSITOR_LEASE_SECONDS: z.coerce.number().int().min(30).default(DEFAULT_COMPOSITION_LEASE_SECONDS),
  /** Video chunks encoded at once; 0 means one per CPU. */
  CAPSTAN_COMPOSITOR_PARALLELISM: z.coerce.number().int().min(0).max(64).default(0),
  CAPSTAN_COMPOSITOR_X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'])
    .default('veryfast'),
  CAPSTAN_COMPOSITOR_WORK_DIR: z.string().optional(),
}).superRefine((c, ctx) => {
  const byManifest = c.CAPSTAN_COMPOSITOR_MANIFEST_KEY !== undefined;
  const byRequest = c.CAPSTAN_COMPOSITOR_RECORDING_ID !== undefined && c.CAPSTAN_COMPOSITOR_COMPOSITION_ID !== undefined;
  if (byManifest === byRequest) {
    ctx.addIssue({
      code: 'custom',
      path: ['CAPSTAN_COMPOSITOR_MANIFEST_KEY'],
      message: 'set either CAPSTAN_COMPOSITOR_MANIFEST_KEY (manifest trigger) or CAPSTAN_COMPOSITOR_RECORDING_ID and CAPSTAN_COMPOSITOR_COMPOSITION_ID (request trigger)',
    });
  }
});
export type CompositorConfig = z.infer<typeof CompositorConfigSchema>;

export type CompositorTrigger =
  | { readonly kind: 'manifest'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'request'; readonly recording_id: string; readonly composition_id: string };

export function readCompositorConfig(env: NodeJS.ProcessEnv): CompositorConfig {
  return readConfig(CompositorConfigSchema, env);
}

export function triggerOf(config: CompositorConfig): CompositorTrigger {
  if (config.CAPSTAN_COMPOSITOR_MANIFEST_KEY !== undefined) {
    return { kind: 'manifest', bucket: config.CAPSTAN_COMPOSITOR_BUCKET ?? config.CAPSTAN_BUCKET, key: config.CAPSTAN_COMPOSITOR_MANIFEST_KEY };
  }
  return { kind: 'request', recording_id: config.CAPSTAN_COMPOSITOR_RECORDING_ID ?? '', composition_id: config.CAPSTAN_COMPOSITOR_COMPOSITION_ID ?? '' };
}
