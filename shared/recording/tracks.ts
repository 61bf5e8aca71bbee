/**
 * Tracks and the room timeline of an `rtp` recording: descriptors callers register (JSON or
 * SDP), room events, and what the recorder reports for each recorded track.
 */
import { z } from 'zod';

export const TRACK_CODECS = ['opus', 'vp8', 'vp9', 'h264'] as const;
export const TrackCodecSchema = z.enum(TRACK_CODECS);
export type TrackCodec = z.infer<typeof TrackCodecSchema>;

const CODEC_KIND: Record<TrackCodec, 'audio' | 'video'> = { opus: 'audio', vp8: 'video', vp9: 'video', h264: 'video' };
const DEFAULT_CLOCK_RATE: Record<TrackCodec, number> = { opus: 48000, vp8: 90000, vp9: 90000, h264: 90000 };

export const TrackDescriptorSchema = z
  .object({
    /** RTP SSRC. Omit it (as ffmpeg's SDP does) to latch the first unknown SSRC with this payload type. */
    ssrc: z.number().int().min(0).max(0xffffffff).optional(),
    payload_type: z.number().int().min(0).max(127),
    codec: z.string().transform((c) => c.toLowerCase()).pipe(TrackCodecSchema),
    clock_rate: z.number().int().positive().max(200_000).optional(),
    channels: z.number().int().min(1).max(8).optional(),
    kind: z.enum(['audio', 'video']).optional(),
    peer_id: z.string().min(1).max(200).optional(),
    display_name: z.string().max(200).optional(),
    track_type: z.enum(['microphone', 'camera', 'screen', 'screen_audio']).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.kind !== undefined && t.kind !== CODEC_KIND[t.codec]) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `codec ${t.codec} is ${CODEC_KIND[t.codec]}` });
    }
  })
  .transform((t) => ({
    ...t,
    kind: CODEC_KIND[t.codec],
    clock_rate: t.clock_rate ?? DEFAULT_CLOCK_RATE[t.codec],
    channels: t.codec === 'opus' ? (t.channels ?? 2) : undefined,
  }));
export type TrackDescriptorInput = z.input<typeof TrackDescriptorSchema>;

/** A registered track as stored in events (normalized: kind and clock rate always present). */
export const RegisteredTrackSchema = z.object({
  track_id: z.string(),
  ssrc: z.number().int().nullable(),
  payload_type: z.number().int(),
  codec: TrackCodecSchema,
  clock_rate: z.number().int(),
  channels: z.number().int().nullable(),
  kind: z.enum(['audio', 'video']),
  peer_id: z.string().nullable(),
  display_name: z.string().nullable(),
  track_type: z.string().nullable(),
  registered_at: z.string(),
});
export type RegisteredTrack = z.infer<typeof RegisteredTrackSchema>;

export const RegisterTracksRequestSchema = z.object({ tracks: z.array(TrackDescriptorSchema).min(1).max(64) }).strict();

export const ROOM_EVENT_TYPES = ['peer_joined', 'peer_left', 'producer_paused', 'producer_resumed', 'active_speaker'] as const;

export const RoomEventSchema = z
  .object({
    type: z.enum(ROOM_EVENT_TYPES),
    peer_id: z.string().min(1).max(200),
    /** The track concerned (producer events), by SSRC or track id. */
    ssrc: z.number().int().min(0).max(0xffffffff).optional(),
    track_id: z.string().max(100).optional(),
    display_name: z.string().max(200).optional(),
    /** When it happened; defaults to when Capstan received it. */
    at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  })
  .strict();
export type RoomEventInput = z.infer<typeof RoomEventSchema>;

export const RoomEventsRequestSchema = z.object({ events: z.array(RoomEventSchema).min(1).max(100) }).strict();

export const TimelineEntrySchema = RoomEventSchema.extend({ at: z.string() });
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

export const TrackStatsSchema = z.object({
  packets: z.number().int(),
  lost: z.number().int(),
  duplicates: z.number().int(),
  reordered: z.number().int(),
  gaps: z.number().int(),
});

export const RecordedTrackSchema = z.object({
  track_id: z.string(),
  ssrc: z.number().int(),
  key: z.string(),
  file_name: z.string(),
  content_type: z.string(),
  container: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  duration_seconds: z.number(),
  first_packet_at: z.string(),
  stats: TrackStatsSchema,
});
export type RecordedTrack = z.infer<typeof RecordedTrackSchema>;

/** Parse an SDP (as ffmpeg's `-sdp_file` writes) into track descriptors, one per payload type per m= line. */
export function tracksFromSdp(sdp: string): { tracks: TrackDescriptorInput[]; errors: { path: string; message: string }[] } {
  const tracks: TrackDescriptorInput[] = [];
  const errors: { path: string; message: string }[] = [];
  const sections = sdp.replace(/\r\n/g, '\n').split(/\n(?=m=)/).filter((s) => s.startsWith('m='));
  if (sections.length === 0) errors.push({ path: 'sdp', message: 'has no m= line' });
  sections.forEach((section, index) => {
    const lines = section.split('\n').map((l) => l.trim());
    const media = /^m=(audio|video) \d+(?:\/\d+)? [A-Z/]+ ([\d ]+)$/.exec(lines[0] ?? '');
    if (!media) {
      // Data channels and other media are not recordable tracks: skipped, not refused.
      if (/^m=(application|text|message) /.test(lines[0] ?? '')) return;
      return errors.push({ path: `sdp.m[${index}]`, message: `unsupported media line "${lines[0]}"` });
    }
    const ssrcs = [...new Set(lines.map((l) => /^a=ssrc:(\d+)/.exec(l)?.[1]).filter((s): s is string => s !== undefined).map(Number))];
    for (const pt of media[2]!.trim().split(/\s+/).map(Number)) {
      const rtpmap = lines.map((l) => new RegExp(`^a=rtpmap:${pt} ([\\w.-]+)/(\\d+)(?:/(\\d+))?`).exec(l)).find((m) => m !== null);
      // Static payload types (PCMU 0, PCMA 8, …) need no rtpmap and are not codecs we record.
      if (!rtpmap) continue;
      const codec = rtpmap[1]!.toLowerCase();
      if (!(TRACK_CODECS as readonly string[]).includes(codec)) continue; // e.g. rtx, red, telephone-event
      const base = { payload_type: pt, codec, clock_rate: Number(rtpmap[2]), ...(rtpmap[3] ? { channels: Number(rtpmap[3]) } : {}), kind: media[1] as 'audio' | 'video' };
      if (ssrcs.length === 0) tracks.push(base);
      else for (const ssrc of ssrcs) tracks.push({ ...base, ssrc });
    }
  });
  return { tracks, errors };
}
