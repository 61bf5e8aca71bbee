/** Request and response shapes of the recordings API. The OpenAPI document is generated from these. */
import { z } from 'zod';
import {
  ArtifactSchema,
  FailureSchema,
  IngestSchema,
  LayoutSchema,
  MetadataSchema,
  OutputSchema,
  RecordingStatusSchema,
  SourceSchema,
  StorageSettingsSchema,
} from './model.ts';
import { CompositionResourceSchema } from '../composition/model.ts';
import { RecordedTrackSchema, RegisteredTrackSchema, TimelineEntrySchema } from './tracks.ts';

export const CreateRecordingRequestSchema = z
  .object({
    source: SourceSchema,
    recording_name: z.string().trim().min(1).max(200).optional(),
    metadata: MetadataSchema.optional(),
    storage_settings: StorageSettingsSchema.optional(),
    webhook_url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048).optional(),
    outputs: z
      .array(OutputSchema)
      .min(1)
      .max(10)
      .refine((outputs) => new Set(outputs).size === outputs.length, { message: 'outputs must not repeat' })
      .optional(),
    layout: LayoutSchema.optional(),
  })
  .strict();
export type CreateRecordingRequest = z.infer<typeof CreateRecordingRequestSchema>;

export const StopRecordingRequestSchema = z.object({}).strict();
export const PauseRecordingRequestSchema = z.object({ reason: z.string().max(200).optional() }).strict();

export const RECORDING_ID_PATTERN = /^rec_[0-9a-z]{26}$/;
export const RecordingIdSchema = z.string().regex(RECORDING_ID_PATTERN, 'is not a recording id');

export const ListRecordingsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(500).optional(),
  status: RecordingStatusSchema.optional(),
});

export const ListEventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const RecordingResourceSchema = z.object({
  id: z.string(),
  status: RecordingStatusSchema,
  source: SourceSchema,
  recording_name: z.string().nullable(),
  metadata: MetadataSchema,
  storage_settings: StorageSettingsSchema,
  webhook_url: z.string().nullable(),
  outputs: z.array(OutputSchema),
  layout: LayoutSchema,
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  stopped_at: z.string().nullable(),
  scheduled_for: z.string().nullable(),
  duration_seconds: z.number().nullable(),
  ingest: IngestSchema.nullable(),
  recorder_id: z.string().nullable(),
  tracks: z.array(RegisteredTrackSchema.extend({ recording: RecordedTrackSchema.omit({ track_id: true, ssrc: true }).nullable() })),
  timeline: z.array(TimelineEntrySchema),
  capture_gaps: z.array(z.record(z.string(), z.unknown())),
  manifest: z.object({ key: z.string(), bytes: z.number().int(), sha256: z.string() }).nullable(),
  interruptions: z.array(z.object({ recorder_id: z.string(), reason: z.string(), at: z.string(), recovered_at: z.string().nullable() })),
  artifacts: z.array(ArtifactSchema.omit({ key: true })),
  compositions: z.array(CompositionResourceSchema),
  failure: FailureSchema.nullable(),
  /** Per-recording sequence of the last event this view includes. */
  sequence: z.number().int(),
});
export type RecordingResource = z.infer<typeof RecordingResourceSchema>;

export const RecordingListSchema = z.object({
  items: z.array(RecordingResourceSchema),
  next_cursor: z.string().nullable(),
});

export const RecordingEventResourceSchema = z.object({
  id: z.string(),
  sequence: z.number().int(),
  type: z.string(),
  schema_version: z.number().int(),
  occurred_at: z.string(),
  correlation_id: z.string().nullable(),
  causation_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

export const RecordingEventListSchema = z.object({
  items: z.array(RecordingEventResourceSchema),
  next_cursor: z.string().nullable(),
});
