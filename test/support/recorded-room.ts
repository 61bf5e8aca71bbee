/**
 * A recorded room as the recorder leaves it — per-track files (VP8 WebM, Opus Ogg) and a
 * manifest — made with real ffmpeg, so compositor tests start from what a recorder writes.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest, ManifestTrack } from '../../shared/recording/manifest.ts';
import { runToEnd } from './media.ts';

export interface ParticipantSpec {
  readonly peer_id: string;
  /** Solid colour of the camera (ffmpeg colour name or 0xRRGGBB). Omit for audio only. */
  readonly color?: string;
  /** Tone frequency of the microphone. Omit for video only. */
  readonly tone_hz?: number;
  readonly offset_ms: number;
  readonly duration_ms: number;
  readonly track_type?: 'camera' | 'screen';
}

export interface RoomFile {
  readonly track: ManifestTrack;
  readonly path: string;
}

const ISO = (ms: number) => new Date(Date.parse('2026-11-23T10:00:00.000Z') + ms).toISOString();

async function describe(path: string) {
  const body = await readFile(path);
  return { bytes: (await stat(path)).size, sha256: createHash('sha256').update(body).digest('hex') };
}

/** Render each participant's tracks into `dir` and build the manifest that names them under `prefix`. */
export async function recordedRoom(
  dir: string,
  ids: { recording_id: string; tenant_id: string; prefix: string },
  participants: readonly ParticipantSpec[],
  extra: Partial<Pick<Manifest, 'timeline' | 'paused_spans'>> = {},
): Promise<{ manifest: Manifest; files: RoomFile[] }> {
  const files: RoomFile[] = [];
  let ssrc = 1000;
  for (const p of participants) {
    const seconds = (p.duration_ms / 1000).toFixed(3);
    const kinds: ('audio' | 'video')[] = [...(p.tone_hz !== undefined ? (['audio'] as const) : []), ...(p.color !== undefined ? (['video'] as const) : [])];
    for (const kind of kinds) {
      const trackId = `trk_${p.peer_id}_${kind}`;
      const fileName = `${trackId}.${kind === 'audio' ? 'ogg' : 'webm'}`;
      const path = join(dir, fileName);
      const args =
        kind === 'audio'
          ? ['-f', 'lavfi', '-i', `sine=frequency=${p.tone_hz}:sample_rate=48000:duration=${seconds}`, '-ac', '2', '-c:a', 'libopus', '-b:a', '48k', path]
          : ['-f', 'lavfi', '-i', `color=c=${p.color}:size=320x180:rate=30:duration=${seconds}`, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '30', path];
      await runToEnd('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
      const { bytes, sha256 } = await describe(path);
      ssrc += 1;
      files.push({
        path,
        track: manifestTrack({ track_id: trackId, kind, peer_id: p.peer_id, file_name: fileName, key: `${ids.prefix}tracks/${fileName}`, offset_ms: p.offset_ms, duration_ms: p.duration_ms, bytes, sha256, ssrc, ...(kind === 'video' && p.track_type ? { track_type: p.track_type } : {}) }),
      });
    }
  }
  return { manifest: manifestFor(ids, files.map((f) => f.track), extra), files };
}

/** A manifest track as the recorder writes it (Opus/Ogg for audio, VP8/WebM for video), aligned by `offset_ms`. */
export function manifestTrack(t: {
  track_id: string;
  kind: 'audio' | 'video';
  peer_id: string;
  file_name: string;
  key: string;
  offset_ms: number;
  duration_ms: number;
  ssrc: number;
  bytes?: number;
  sha256?: string;
  track_type?: string;
}): ManifestTrack {
  const audio = t.kind === 'audio';
  return {
    track_id: t.track_id,
    ssrc: t.ssrc,
    peer_id: t.peer_id,
    display_name: t.peer_id,
    track_type: t.track_type ?? (audio ? 'microphone' : 'camera'),
    kind: t.kind,
    codec: audio ? 'opus' : 'vp8',
    payload_type: audio ? 111 : 96,
    clock_rate: audio ? 48000 : 90000,
    channels: audio ? 2 : null,
    key: t.key,
    file_name: t.file_name,
    container: audio ? 'ogg' : 'webm',
    content_type: audio ? 'audio/ogg' : 'video/webm',
    bytes: t.bytes ?? 0,
    sha256: t.sha256 ?? '',
    duration_seconds: t.duration_ms / 1000,
    first_packet_at: ISO(t.offset_ms),
    last_packet_at: ISO(t.offset_ms + t.duration_ms),
    first_rtp_timestamp: 0,
    first_sequence: 0,
    start_time: ISO(t.offset_ms),
    start_time_source: 'rtcp_sender_report',
    offset_ms: t.offset_ms,
    rtp_ntp_mappings: [],
    gaps: [],
    stats: { packets: 100, lost: 0, duplicates: 0, reordered: 0, frames: 100, keyframes: 1 },
  };
}

/** The manifest naming `tracks`, with the reference time at offset 0. */
export function manifestFor(
  ids: { recording_id: string; tenant_id: string },
  tracks: ManifestTrack[],
  extra: Partial<Pick<Manifest, 'timeline' | 'paused_spans'>> = {},
): Manifest {
  const end = Math.max(0, ...tracks.map((t) => t.offset_ms + t.duration_seconds * 1000));
  return {
    manifest_version: 1,
    recording_id: ids.recording_id,
    tenant_id: ids.tenant_id,
    recorder_id: 'recorder-test',
    written_at: ISO(end + 500),
    reference_time: tracks.length > 0 ? ISO(0) : null,
    started_at: ISO(0),
    stopped_at: ISO(end),
    stop_reason: 'api',
    recovered: false,
    ingest: null,
    segments: [],
    unreadable_segments: [],
    tracks,
    silent_tracks: [],
    timeline: extra.timeline ?? [],
    paused_spans: extra.paused_spans ?? [],
    capture_gaps: [],
    interruptions: [],
    counters: {},
  };
}
