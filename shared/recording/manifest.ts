/**
 * `manifest.json`: the sync manifest a recorder writes last, after every track file. The
 * compositor trusts only this. Times are ISO 8601 wall clock; offsets are milliseconds from
 * `reference_time` (the earliest first packet of any track).
 */
import { z } from 'zod';

const Iso = z.string();

export const ManifestSegmentSchema = z.object({
  index: z.number().int(),
  key: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  truncated_bytes: z.number().int(),
  packets: z.number().int(),
  first_received_at: Iso.nullable(),
  last_received_at: Iso.nullable(),
});

export const ManifestTrackSchema = z.object({
  track_id: z.string(),
  ssrc: z.number().int(),
  peer_id: z.string().nullable(),
  display_name: z.string().nullable(),
  track_type: z.string().nullable(),
  kind: z.enum(['audio', 'video']),
  codec: z.string(),
  payload_type: z.number().int(),
  clock_rate: z.number().int(),
  channels: z.number().int().nullable(),
  key: z.string(),
  file_name: z.string(),
  container: z.string(),
  content_type: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  duration_seconds: z.number(),
  first_packet_at: Iso,
  last_packet_at: Iso,
  first_rtp_timestamp: z.number(),
  first_sequence: z.number().int(),
  /** When the track's first RTP timestamp was sampled, by its sender's clock (RTCP SR) or, without SR, on arrival. */
  start_time: Iso,
  start_time_source: z.enum(['rtcp_sender_report', 'arrival']),
  offset_ms: z.number(),
  rtp_ntp_mappings: z.array(z.object({ rtp_timestamp: z.number(), ntp_time: Iso, received_at: Iso })),
  gaps: z.array(z.object({ after_sequence: z.number(), missing: z.number().int(), start_offset_ms: z.number(), duration_ms: z.number() })),
  stats: z.object({
    packets: z.number().int(),
    lost: z.number().int(),
    duplicates: z.number().int(),
    reordered: z.number().int(),
    frames: z.number().int(),
    keyframes: z.number().int(),
  }),
});
export type ManifestTrack = z.infer<typeof ManifestTrackSchema>;

export const ManifestSchema = z.object({
  manifest_version: z.literal(1),
  recording_id: z.string(),
  tenant_id: z.string(),
  recorder_id: z.string(),
  written_at: Iso,
  reference_time: Iso.nullable(),
  started_at: Iso.nullable(),
  stopped_at: Iso,
  stop_reason: z.string(),
  recovered: z.boolean(),
  ingest: z.record(z.string(), z.unknown()).nullable(),
  segments: z.array(ManifestSegmentSchema),
  unreadable_segments: z.array(z.object({ key: z.string(), bytes: z.number().int(), error: z.string() })),
  tracks: z.array(ManifestTrackSchema),
  /** Registered tracks without a file: no packet arrived, or nothing in them could be decoded. */
  silent_tracks: z.array(
    z.object({
      track_id: z.string(),
      ssrc: z.number().int().nullable(),
      payload_type: z.number().int(),
      codec: z.string(),
      reason: z.enum(['no_packets', 'no_decodable_frames']),
      packets: z.number().int(),
    }),
  ),
  timeline: z.array(z.record(z.string(), z.unknown())),
  paused_spans: z.array(z.object({ from: Iso, to: Iso.nullable() })),
  capture_gaps: z.array(z.record(z.string(), z.unknown())),
  interruptions: z.array(z.record(z.string(), z.unknown())),
  counters: z.record(z.string(), z.number()),
});
export type Manifest = z.infer<typeof ManifestSchema>;
