/**
 * Recording domain events: past tense, zod-typed, each with its own schema version.
 * A new shape gets a new `schema_version`; stored events are never rewritten.
 */
import { z } from 'zod';
import {
  ArtifactSchema,
  FailureSchema,
  IngestSchema,
  LayoutSchema,
  MetadataSchema,
  OutputSchema,
  SourceSchema,
  StorageSettingsSchema,
} from './model.ts';

const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), schema_version: z.literal(1), data });

export const RecordingRequested = event(
  'RecordingRequested',
  z.object({
    recording_id: z.string(),
    tenant_id: z.string(),
    source: SourceSchema,
    recording_name: z.string().nullable(),
    metadata: MetadataSchema,
    storage_settings: StorageSettingsSchema,
    webhook_url: z.string().nullable(),
    outputs: z.array(OutputSchema),
    layout: LayoutSchema,
    /** SHA-256 of the canonical request: tells a retry from a different request under one key. */
    request_hash: z.string(),
    idempotency_key: z.string().nullable(),
  }),
);
export const RecordingScheduled = event('RecordingScheduled', z.object({ join_at: z.string() }));
export const RecordingClaimed = event(
  'RecordingClaimed',
  z.object({ recorder_id: z.string(), ingest: IngestSchema.optional() }),
);
export const RecordingStarted = event('RecordingStarted', z.object({ started_at: z.string() }));
export const RecordingPaused = event('RecordingPaused', z.object({ reason: z.string().nullable() }));
export const RecordingResumed = event('RecordingResumed', z.object({}));
export const RecordingStopRequested = event(
  'RecordingStopRequested',
  z.object({ reason: z.enum(['api', 'inactivity', 'max_duration', 'provider', 'shutdown']) }),
);
export const RecordingStopped = event(
  'RecordingStopped',
  z.object({ stopped_at: z.string(), duration_seconds: z.number().nonnegative() }),
);
export const RecordingCompleted = event(
  'RecordingCompleted',
  z.object({ artifacts: z.array(ArtifactSchema), duration_seconds: z.number().nonnegative() }),
);
export const RecordingFailed = event('RecordingFailed', FailureSchema);
export const RecordingDeleted = event('RecordingDeleted', z.object({ reason: z.string().nullable() }));

export const RecordingEventSchema = z.discriminatedUnion('type', [
  RecordingRequested,
  RecordingScheduled,
  RecordingClaimed,
  RecordingStarted,
  RecordingPaused,
  RecordingResumed,
  RecordingStopRequested,
  RecordingStopped,
  RecordingCompleted,
  RecordingFailed,
  RecordingDeleted,
]);
export type RecordingEvent = z.infer<typeof RecordingEventSchema>;
export type RecordingEventType = RecordingEvent['type'];
export type EventOf<T extends RecordingEventType> = Extract<RecordingEvent, { type: T }>;

/** Build an event with its current schema version. */
export function recordingEvent<T extends RecordingEventType>(type: T, data: EventOf<T>['data']): EventOf<T> {
  return { type, schema_version: 1, data } as EventOf<T>;
}
