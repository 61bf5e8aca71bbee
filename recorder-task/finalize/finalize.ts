/**
 * Finalization: segments in S3 → one playable file per track → `manifest.json` (last) →
 * events. The same path serves a normal stop and the recovery of a crashed recorder, and it
 * reads only what reached S3, so both produce the same files from the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../shared/logger.ts';
import { objectKey, recordingPrefix, type KeyParts } from '../../shared/media/keys.ts';
import { ManifestSchema, type Manifest, type ManifestTrack } from '../../shared/recording/manifest.ts';
import type { RecordingService } from '../../shared/recording/service.ts';
import type { RecordingView } from '../../shared/recording/view.ts';
import { parseRtpHeader } from '../rtp/header.ts';
import { parseRtcp } from '../rtp/rtcp.ts';
import { timestampDiff } from '../rtp/sequence.ts';
import { readSegments } from '../segments/segment-reader.ts';
import { RecordKind } from '../segments/format.ts';
import { assembleTrack } from '../track/assemble.ts';
import { EmptyTrackError } from '../track/errors.ts';
import { routeSsrcs, type SsrcSummary } from './track-routing.ts';

export interface FinalizeDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly service: RecordingService;
  readonly workDir: string;
  readonly recorderId: string;
  readonly logger: Logger;
}

export interface FinalizeInput {
  readonly view: RecordingView;
  readonly stopReason: string;
  readonly recovered: boolean;
  readonly counters?: Record<string, number>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function keyPartsOf(view: RecordingView): KeyParts {
  return { tenant_id: view.tenant_id, recording_id: view.id, date: view.created_at.slice(0, 10) };
}

export function segmentPrefix(view: RecordingView): string {
  return `${recordingPrefix(view.storage_settings.key_template, keyPartsOf(view))}segments/`;
}

/** Where segment `index` of a recording lives: `<prefix>segments/000042.capseg`. */
export function segmentKey(view: RecordingView, index: number): string {
  return objectKey(view.storage_settings.key_template, keyPartsOf(view), `segments/${String(index).padStart(6, '0')}.capseg`);
}

async function put(s3: S3Client, bucket: string, key: string, body: Buffer, contentType: string) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  return { key, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

function pausedSpans(view: RecordingView, events: readonly { type: string; occurred_at: string }[]) {
  const spans: { from: string; to: string | null }[] = [];
  for (const e of events) {
    if (e.type === 'RecordingPaused') spans.push({ from: e.occurred_at, to: null });
    if (e.type === 'RecordingResumed' && spans.at(-1)?.to === null) spans.at(-1)!.to = e.occurred_at;
  }
  void view;
  return spans;
}

export async function finalizeRecording(deps: FinalizeDeps, input: FinalizeInput, events: readonly { type: string; occurred_at: string }[]): Promise<Manifest> {
  const { view } = input;
  const parts = keyPartsOf(view);
  const read = await readSegments(deps.s3, deps.bucket, segmentPrefix(view));

  // Group RTP by SSRC (arrival order kept) and collect sender reports.
  const rtpBySsrc = new Map<number, { receivedAtMs: number; data: Buffer }[]>();
  const seen = new Map<number, SsrcSummary>();
  const senderReports = new Map<number, { rtpTimestamp: number; ntpTimeMs: number; receivedAtMs: number }[]>();
  for (const record of read.records) {
    if (record.kind === RecordKind.Rtcp) {
      const rtcp = parseRtcp(record.data);
      if (!rtcp.ok) continue;
      for (const sr of rtcp.senderReports) {
        const list = senderReports.get(sr.ssrc) ?? [];
        list.push({ rtpTimestamp: sr.rtpTimestamp, ntpTimeMs: sr.ntpTimeMs, receivedAtMs: record.receivedAtMs });
        senderReports.set(sr.ssrc, list);
      }
      continue;
    }
    const header = parseRtpHeader(record.data, 65_535);
    if (!header.ok) continue;
    const list = rtpBySsrc.get(header.ssrc) ?? [];
    list.push({ receivedAtMs: record.receivedAtMs, data: record.data });
    rtpBySsrc.set(header.ssrc, list);
    if (!seen.has(header.ssrc)) seen.set(header.ssrc, { ssrc: header.ssrc, payloadType: header.payloadType, firstAtMs: record.receivedAtMs });
  }

  const routing = routeSsrcs(view.tracks, [...seen.values()]);
  const outDir = join(deps.workDir, view.id);
  mkdirSync(outDir, { recursive: true });
  const tracks: Omit<ManifestTrack, 'offset_ms'>[] = [];
  const silent: Manifest['silent_tracks'] = [];
  try {
    for (const track of view.tracks) {
      const ssrc = routing.get(track.track_id);
      const packets = ssrc === undefined ? undefined : rtpBySsrc.get(ssrc);
      if (ssrc === undefined || packets === undefined || packets.length === 0) {
        silent.push({ track_id: track.track_id, ssrc: track.ssrc, payload_type: track.payload_type, codec: track.codec, reason: 'no_packets', packets: 0 });
        continue;
      }
      let assembled: Awaited<ReturnType<typeof assembleTrack>>;
      try {
        assembled = await assembleTrack({
          packets,
          codec: track.codec,
          clockRate: track.clock_rate,
          channels: track.channels ?? undefined,
          outDir,
          baseName: `${track.track_id}-${track.kind}`,
        });
      } catch (error) {
        // One undecodable track (e.g. video that never got a whole keyframe) must not hold back the others.
        if (!(error instanceof EmptyTrackError)) throw error;
        deps.logger.warn('track has no playable media', { trackId: track.track_id, ssrc, packets: packets.length, reason: error.reason });
        silent.push({ track_id: track.track_id, ssrc, payload_type: track.payload_type, codec: track.codec, reason: 'no_decodable_frames', packets: packets.length });
        continue;
      }
      const body = readFileSync(assembled.path);
      const stored = await put(deps.s3, deps.bucket, objectKey(view.storage_settings.key_template, parts, `tracks/${assembled.fileName}`), body, assembled.contentType);
      // Sender clock for the first RTP timestamp: the SR nearest the start maps RTP time to NTP.
      const reports = senderReports.get(ssrc) ?? [];
      const sr = reports[0];
      const startMs = sr
        ? sr.ntpTimeMs + (timestampDiff(assembled.firstRtpTimestamp >>> 0, sr.rtpTimestamp) / track.clock_rate) * 1000
        : assembled.firstReceivedAtMs;
      const entry: Omit<ManifestTrack, 'offset_ms'> = {
        track_id: track.track_id,
        ssrc,
        peer_id: track.peer_id,
        display_name: track.display_name,
        track_type: track.track_type,
        kind: track.kind,
        codec: track.codec,
        payload_type: track.payload_type,
        clock_rate: track.clock_rate,
        channels: track.channels,
        key: stored.key,
        file_name: assembled.fileName,
        container: assembled.container,
        content_type: assembled.contentType,
        bytes: stored.bytes,
        sha256: stored.sha256,
        duration_seconds: assembled.durationSeconds,
        first_packet_at: iso(assembled.firstReceivedAtMs),
        last_packet_at: iso(assembled.lastReceivedAtMs),
        first_rtp_timestamp: assembled.firstRtpTimestamp,
        first_sequence: assembled.firstSequence,
        start_time: iso(startMs),
        start_time_source: sr ? 'rtcp_sender_report' : 'arrival',
        rtp_ntp_mappings: reports.slice(0, 50).map((r) => ({ rtp_timestamp: r.rtpTimestamp, ntp_time: iso(r.ntpTimeMs), received_at: iso(r.receivedAtMs) })),
        gaps: assembled.stats.gaps.map((g) => ({ after_sequence: g.afterSequence, missing: g.missing, start_offset_ms: g.startOffsetMs, duration_ms: g.durationMs })),
        stats: {
          packets: assembled.stats.packets,
          lost: assembled.stats.lost,
          duplicates: assembled.stats.duplicates,
          reordered: assembled.stats.reordered,
          frames: assembled.stats.frames,
          keyframes: assembled.stats.keyframes,
        },
      };
      tracks.push(entry);
      await deps.service.system(view.id, view.tenant_id, (now) => ({
        type: 'RecordTrack',
        metadata: { now },
        data: {
          track_id: track.track_id,
          ssrc,
          key: stored.key,
          file_name: assembled.fileName,
          content_type: assembled.contentType,
          container: assembled.container,
          bytes: stored.bytes,
          sha256: stored.sha256,
          duration_seconds: assembled.durationSeconds,
          first_packet_at: entry.first_packet_at,
          stats: { packets: entry.stats.packets, lost: entry.stats.lost, duplicates: entry.stats.duplicates, reordered: entry.stats.reordered, gaps: entry.gaps.length },
        },
      }));
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }

  const referenceMs = tracks.length === 0 ? null : Math.min(...tracks.map((t) => Date.parse(t.start_time)));
  const manifest: Manifest = ManifestSchema.parse({
    manifest_version: 1,
    recording_id: view.id,
    tenant_id: view.tenant_id,
    recorder_id: deps.recorderId,
    written_at: new Date().toISOString(),
    reference_time: referenceMs === null ? null : iso(referenceMs),
    started_at: view.started_at,
    stopped_at: new Date().toISOString(),
    stop_reason: input.stopReason,
    recovered: input.recovered,
    ingest: view.ingest,
    segments: read.segments.map((s) => ({
      index: s.header.segmentIndex,
      key: s.key,
      bytes: s.bytes,
      sha256: s.sha256,
      truncated_bytes: s.truncatedBytes,
      packets: s.records.length,
      first_received_at: s.records.length > 0 ? iso(s.records[0]!.receivedAtMs) : null,
      last_received_at: s.records.length > 0 ? iso(s.records.at(-1)!.receivedAtMs) : null,
    })),
    unreadable_segments: read.unreadable.map((u) => ({ key: u.key, bytes: u.bytes, error: u.error.message })),
    tracks: tracks.map((t) => ({ ...t, offset_ms: Math.round((Date.parse(t.start_time) - (referenceMs ?? 0)) * 1000) / 1000 })),
    silent_tracks: silent,
    timeline: view.timeline,
    paused_spans: pausedSpans(view, events),
    capture_gaps: view.capture_gaps,
    interruptions: view.interruptions,
    counters: input.counters ?? {},
  });
  const stored = await put(deps.s3, deps.bucket, objectKey(view.storage_settings.key_template, parts, 'manifest.json'), Buffer.from(JSON.stringify(manifest, null, 2)), 'application/json');
  const durationSeconds = tracks.length === 0 ? 0 : Math.max(...tracks.map((t) => (Date.parse(t.start_time) - referenceMs!) / 1000 + t.duration_seconds));
  if (input.recovered) {
    await deps.service.system(view.id, view.tenant_id, (now) => ({
      type: 'RecoverRecording',
      metadata: { now },
      data: { recorder_id: deps.recorderId, segments: manifest.segments.length, truncated_bytes: manifest.segments.reduce((n, s) => n + s.truncated_bytes, 0) },
    }));
  }
  await deps.service.system(view.id, view.tenant_id, (now) => ({ type: 'FinishCapture', metadata: { now }, data: { duration_seconds: durationSeconds, manifest: stored } }));
  deps.logger.info('recording finalized', { recordingId: view.id, tracks: tracks.length, segments: read.segments.length, manifestBytes: stored.bytes });
  return manifest;
}
