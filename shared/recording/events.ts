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
import { RecordedTrackSchema, RegisteredTrackSchema, TimelineEntrySchema } from './tracks.ts';

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
  z.object({
    stopped_at: z.string(),
    duration_seconds: z.number().nonnegative(),
    /** The sync manifest, written last; absent when nothing was captured. */
    manifest: z.object({ key: z.string(), bytes: z.number().int(), sha256: z.string() }).optional(),
  }),
);
export const TracksRegistered = event('TracksRegistered', z.object({ tracks: z.array(RegisteredTrackSchema) }));
export const RoomEventsRecorded = event('RoomEventsRecorded', z.object({ events: z.array(TimelineEntrySchema) }));
export const TrackRecorded = event('TrackRecorded', RecordedTrackSchema);
export const CaptureGapRecorded = event(
  'CaptureGapRecorded',
  z.object({
    reason: z.enum(['spill_limit', 'upload_failed', 'unknown_ssrc_expired']),
    segment_index: z.number().int().nullable(),
    packets: z.number().int(),
    bytes: z.number().int(),
    from: z.string(),
    to: z.string(),
  }),
);
export const RecordingInterrupted = event('RecordingInterrupted', z.object({ recorder_id: z.string(), reason: z.string() }));
export const RecordingRecovered = event(
  'RecordingRecovered',
  z.object({ recorder_id: z.string(), segments: z.number().int(), truncated_bytes: z.number().int() }),
);
export const RecordingCompleted = event(
  'RecordingCompleted',
  z.object({ artifacts: z.array(ArtifactSchema), duration_seconds: z.number().nonnegative() }),
);
export const RecordingFailed = event('RecordingFailed', FailureSchema);
export const RecordingDeleted = event('RecordingDeleted', z.object({ reason: z.string().nullable() }));

const CompositionSpecData = { layout: LayoutSchema, outputs: z.array(OutputSchema) };
export const CompositionRequested = event(
  'CompositionRequested',
  z.object({
    composition_id: z.string(),
    ...CompositionSpecData,
    /** The recording's own composition, which gates its completion. */
    initial: z.boolean(),
    trigger: z.enum(['manifest', 'api']),
  }),
);
export const CompositionStarted = event(
  'CompositionStarted',
  z.object({
    composition_id: z.string(),
    compositor_id: z.string(),
    attempt: z.number().int().positive(),
    lease_seconds: z.number().int().positive(),
    at: z.string(),
  }),
);
export const CompositionProgressed = event(
  'CompositionProgressed',
  z.object({ composition_id: z.string(), compositor_id: z.string(), percent: z.number().int().min(0).max(100), at: z.string() }),
);
export const CompositionCompleted = event(
  'CompositionCompleted',
  z.object({ composition_id: z.string(), compositor_id: z.string(), artifacts: z.array(ArtifactSchema), duration_seconds: z.number().nonnegative() }),
);
export const CompositionFailed = event(
  'CompositionFailed',
  FailureSchema.extend({ composition_id: z.string(), compositor_id: z.string() }),
);

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
  TracksRegistered,
  RoomEventsRecorded,
  TrackRecorded,
  CaptureGapRecorded,
  RecordingInterrupted,
  RecordingRecovered,
  CompositionRequested,
  CompositionStarted,
  CompositionProgressed,
  CompositionCompleted,
  CompositionFailed,
]);
export type RecordingEvent = z.infer<typeof RecordingEventSchema>;
export type RecordingEventType = RecordingEvent['type'];
export type EventOf<T extends RecordingEventType> = Extract<RecordingEvent, { type: T }>;

/** Build an event with its current schema version. */
export function recordingEvent<T extends RecordingEventType>(type: T, data: EventOf<T>['data']): EventOf<T> {
  return { type, schema_version: 1, data } as EventOf<T>;
}
