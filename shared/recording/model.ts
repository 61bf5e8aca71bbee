/**
 * Value schemas of the recording model, shared by commands, events and the HTTP API.
 * JSON on the wire is snake_case, so the schemas are too.
 */
import { z } from 'zod';

export const RECORDING_STATUSES = [
  'requested',
  'scheduled',
  'starting',
  'recording',
  'paused',
  'stopping',
  'processing',
  'completed',
  'failed',
  'deleted',
] as const;
export const RecordingStatusSchema = z.enum(RECORDING_STATUSES);
export type RecordingStatus = z.infer<typeof RecordingStatusSchema>;

export const TERMINAL_STATUSES: readonly RecordingStatus[] = ['completed', 'failed', 'deleted'];

export const RtpSourceSchema = z
  .object({
    type: z.literal('rtp'),
    room_id: z.string().min(1).max(200).optional(),
    requester_id: z.string().min(1).max(200).optional(),
  })
  .strict();

export const BotSourceSchema = z
  .object({
    type: z.literal('bot'),
    meeting_url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    bot_name: z.string().min(1).max(100).optional(),
    join_at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  })
  .strict();

export const StreamSourceSchema = z
  .object({
    type: z.literal('stream'),
    encoding: z.enum(['pcm_s16le', 'mulaw']),
    sample_rate: z.union([z.literal(8000), z.literal(16000), z.literal(24000), z.literal(48000)]),
  })
  .strict();

export const SourceSchema = z.discriminatedUnion('type', [RtpSourceSchema, BotSourceSchema, StreamSourceSchema]);
export type Source = z.infer<typeof SourceSchema>;
export type SourceType = Source['type'];

/** Free-form caller metadata, bounded like Stripe's: 50 keys, 40-char keys, 500-char values. */
export const METADATA_LIMITS = { maxKeys: 50, maxKeyLength: 40, maxStringLength: 500, maxBytes: 8 * 1024 } as const;

const MetadataKeyRule = /^[A-Za-z0-9_.:-]+$/;

export const MetadataSchema = z
  .record(
    z.string(),
    z.union([
      z.string().max(METADATA_LIMITS.maxStringLength, `metadata values are at most ${METADATA_LIMITS.maxStringLength} characters`),
      z.number().finite(),
      z.boolean(),
      z.null(),
    ], { message: 'metadata values are strings, numbers, booleans or null (no nested objects)' }),
  )
  .superRefine((value, ctx) => {
    if (typeof value !== 'object' || value === null) return;
    const keys = Object.keys(value);
    // Key rules are checked here rather than by a key schema so each error names its key.
    for (const key of keys) {
      if (key.length === 0 || key.length > METADATA_LIMITS.maxKeyLength) {
        ctx.addIssue({ code: 'custom', path: [key], message: `metadata keys are 1 to ${METADATA_LIMITS.maxKeyLength} characters` });
      } else if (!MetadataKeyRule.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'metadata keys use letters, digits, _ . : -' });
      }
    }
    if (keys.length > METADATA_LIMITS.maxKeys) ctx.addIssue({ code: 'custom', message: `metadata has at most ${METADATA_LIMITS.maxKeys} keys` });
    if (Buffer.byteLength(JSON.stringify(value)) > METADATA_LIMITS.maxBytes) {
      ctx.addIssue({ code: 'custom', message: `metadata is at most ${METADATA_LIMITS.maxBytes} bytes of JSON` });
    }
  }, { when: () => true }); // run even when a value failed, so key errors are reported too
export type Metadata = z.infer<typeof MetadataSchema>;

const KEY_TEMPLATE_PLACEHOLDERS = ['tenant_id', 'recording_id', 'name', 'date'] as const;

export const StorageSettingsSchema = z
  .object({
    key_template: z
      .string()
      .min(1)
      .max(300)
      .refine((t) => t.includes('{recording_id}') && t.indexOf('{recording_id}') < t.indexOf('{name}'), {
        // Every object of a recording then lives under one prefix, which deletion relies on.
        message: 'key_template must contain {recording_id} and, after it, {name}',
      })
      .refine(
        (t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => (KEY_TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')),
        { message: `key_template placeholders are ${KEY_TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` },
      )
      .refine((t) => !t.startsWith('/') && !t.includes('..') && !t.includes('//'), {
        message: 'key_template must be a relative key without "..", "//" or a leading "/"',
      }),
  })
  .strict();
export type StorageSettings = z.infer<typeof StorageSettingsSchema>;
export const DEFAULT_KEY_TEMPLATE = '{tenant_id}/{recording_id}/{name}';

export const OUTPUTS = ['composite.mp4', 'audio.m4a', 'audio.mp3', 'audio.wav', 'tracks', 'thumbnails', 'transcript'] as const;
export const OutputSchema = z.enum(OUTPUTS);
export type Output = z.infer<typeof OutputSchema>;

export { LayoutSchema, type Layout } from '../composition/layout.ts';

export const IngestSchema = z.discriminatedUnion('protocol', [
  z.object({ protocol: z.literal('rtp'), host: z.string(), port: z.number().int(), rtcp_port: z.number().int().optional() }),
  z.object({ protocol: z.literal('websocket'), url: z.string() }),
]);
export type Ingest = z.infer<typeof IngestSchema>;

export const FailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  failure_class: z.enum(['temporary', 'permanent']),
  /** Whose fault: the customer's destination or input, the provider, or our own. */
  blame: z.enum(['customer', 'provider', 'capstan']),
});
export type Failure = z.infer<typeof FailureSchema>;

/** Failure code of a composition whose recording was deleted while it rendered; its uploads are then cleaned up. */
export const RECORDING_DELETED = 'recording_deleted';

export const ArtifactSchema = z.object({
  name: z.string(),
  kind: z.string(),
  key: z.string(),
  content_type: z.string(),
  bytes: z.number().int().nonnegative(),
  duration_seconds: z.number().nonnegative().optional(),
  sha256: z.string().optional(),
  /** Codec names as ffprobe reports them, e.g. ["h264", "aac"]. */
  codecs: z.array(z.string()).optional(),
  /** `WIDTHxHEIGHT` of a video or image. */
  resolution: z.string().optional(),
  /** The composition that produced it; absent for the recorder's own files. */
  composition_id: z.string().optional(),
});
export type Artifact = z.infer<typeof ArtifactSchema>;

export function defaultOutputs(source: SourceType): Output[] {
  return source === 'stream' ? ['audio.wav'] : ['composite.mp4', 'audio.m4a'];
}
