import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../eventstore/port.ts';
import { IntegrationEventSchema, toIntegrationEvent } from '../integration/integration-event.ts';
import { recordingEvent, type RecordingEvent } from './events.ts';
import { DEFAULT_KEY_TEMPLATE } from './model.ts';
import type { RecordedTrack, RegisteredTrack, TimelineEntry } from './tracks.ts';
import { foldRecording, projectRecording, type RecordingView } from './view.ts';

const RECORDING_ID = 'rec_00000000000000000000000001';
const T0 = '2026-03-01T10:00:00.000Z';
/** T0 + n seconds. */
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** Stored events as the store hands them out: versions 1, 2, … and `occurred_at` one second apart. */
function stream(...events: RecordingEvent[]): StoredEvent[] {
  return events.map((event, index) => ({
    stream_id: RECORDING_ID,
    version: index + 1,
    event_id: `evt_${index + 1}`,
    type: event.type,
    schema_version: event.schema_version,
    occurred_at: at(index),
    tenant_id: 'tenant-a',
    correlation_id: null,
    causation_id: null,
    data: event.data as Record<string, unknown>,
  }));
}

const fold = (...events: RecordingEvent[]): RecordingView => {
  const view = foldRecording(stream(...events));
  expect(view).not.toBeNull();
  return view as RecordingView;
};

const requested = recordingEvent('RecordingRequested', {
  recording_id: RECORDING_ID,
  tenant_id: 'tenant-a',
  source: { type: 'rtp', room_id: 'room-1' },
  recording_name: null,
  metadata: { team: 'core' },
  storage_settings: { key_template: DEFAULT_KEY_TEMPLATE },
  webhook_url: null,
  outputs: ['tracks'],
  layout: { preset: 'grid' },
  request_hash: 'hash-1',
  idempotency_key: null,
});
const claimed = recordingEvent('RecordingClaimed', { recorder_id: 'recorder-1', ingest: { protocol: 'rtp', host: '10.0.0.5', port: 40000 } });
const started = recordingEvent('RecordingStarted', { started_at: at(2) });
const stopRequested = recordingEvent('RecordingStopRequested', { reason: 'api' });

const opus: RegisteredTrack = {
  track_id: 'trk_1',
  ssrc: null, // from ffmpeg's SDP: latched to the first SSRC seen with payload type 97
  payload_type: 97,
  codec: 'opus',
  clock_rate: 48000,
  channels: 2,
  kind: 'audio',
  peer_id: null,
  display_name: null,
  track_type: null,
  registered_at: T0,
};
const vp8: RegisteredTrack = { ...opus, track_id: 'trk_2', ssrc: 2222, payload_type: 96, codec: 'vp8', clock_rate: 90000, channels: null, kind: 'video' };

const recordedOpus: RecordedTrack = {
  track_id: 'trk_1',
  ssrc: 31337,
  key: `tenant-a/${RECORDING_ID}/tracks/trk_1.ogg`,
  file_name: 'trk_1.ogg',
  content_type: 'audio/ogg',
  container: 'ogg',
  bytes: 4096,
  sha256: 'cd'.repeat(32),
  duration_seconds: 89.5,
  first_packet_at: at(3),
  stats: { packets: 4475, lost: 2, duplicates: 0, reordered: 1, gaps: 0 },
};

describe('projectRecording: tracks', () => {
  it('TracksRegistered adds the tracks, not yet recorded', () => {
    const view = fold(requested, recordingEvent('TracksRegistered', { tracks: [opus] }), recordingEvent('TracksRegistered', { tracks: [vp8] }));
    expect(view.tracks).toEqual([
      { ...opus, recording: null },
      { ...vp8, recording: null },
    ]);
  });

  it('TrackRecorded merges the recording into its track and sets the latched SSRC; other tracks are untouched', () => {
    const view = fold(requested, claimed, started, recordingEvent('TracksRegistered', { tracks: [opus, vp8] }), recordingEvent('TrackRecorded', recordedOpus));
    const { track_id: _id, ssrc: _ssrc, ...recording } = recordedOpus;
    expect(view.tracks).toEqual([
      { ...opus, ssrc: 31337, recording },
      { ...vp8, recording: null },
    ]);
    expect(view.tracks[0]?.recording).toMatchObject({ key: recordedOpus.key, stats: recordedOpus.stats });
    expect(view.tracks[0]?.recording).not.toHaveProperty('track_id');
    expect(view.tracks[0]?.recording).not.toHaveProperty('ssrc');
    expect(view.version).toBe(5);
    expect(view.updated_at).toBe(at(4));
  });
});

describe('projectRecording: timeline, gaps, interruptions, manifest', () => {
  const joined: TimelineEntry = { type: 'peer_joined', peer_id: 'peer-a', display_name: 'Ada', at: at(1) };
  const paused: TimelineEntry = { type: 'producer_paused', peer_id: 'peer-a', ssrc: 2222, at: at(5) };
  const left: TimelineEntry = { type: 'peer_left', peer_id: 'peer-a', at: at(9) };

  it('RoomEventsRecorded appends to the timeline in order', () => {
    const view = fold(requested, recordingEvent('RoomEventsRecorded', { events: [joined, paused] }), recordingEvent('RoomEventsRecorded', { events: [left] }));
    expect(view.timeline).toEqual([joined, paused, left]);
  });

  it('RecordingClaimed names the recorder; CaptureGapRecorded appends a gap', () => {
    const gap = { reason: 'upload_failed' as const, segment_index: 4, packets: 250, bytes: 40_000, from: at(3), to: at(4) };
    const view = fold(requested, claimed, started, recordingEvent('CaptureGapRecorded', gap));
    expect(view.recorder_id).toBe('recorder-1');
    expect(view.capture_gaps).toEqual([gap]);
  });

  it('RecordingInterrupted opens an interruption; RecordingRecovered closes it and moves the recording to the new recorder', () => {
    const interrupted = recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-1', reason: 'lease_expired' });
    const recovered = recordingEvent('RecordingRecovered', { recorder_id: 'recorder-2', segments: 3, truncated_bytes: 512 });

    const open = fold(requested, claimed, started, interrupted);
    expect(open.interruptions).toEqual([{ recorder_id: 'recorder-1', reason: 'lease_expired', at: at(3), recovered_at: null }]);
    expect(open.recorder_id).toBe('recorder-1');
    expect(open.status).toBe('recording');

    const closed = fold(requested, claimed, started, interrupted, recovered);
    expect(closed.interruptions).toEqual([{ recorder_id: 'recorder-1', reason: 'lease_expired', at: at(3), recovered_at: at(4) }]);
    expect(closed.recorder_id).toBe('recorder-2');

    const again = fold(requested, claimed, started, interrupted, recovered, recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-2', reason: 'crashed' }));
    expect(again.interruptions).toEqual([
      { recorder_id: 'recorder-1', reason: 'lease_expired', at: at(3), recovered_at: at(4) },
      { recorder_id: 'recorder-2', reason: 'crashed', at: at(5), recovered_at: null },
    ]);
  });

  it('RecordingStopped sets the manifest, or null when there is none', () => {
    const manifest = { key: `tenant-a/${RECORDING_ID}/manifest.json`, bytes: 812, sha256: 'ef'.repeat(32) };
    const withManifest = fold(requested, claimed, started, stopRequested, recordingEvent('RecordingStopped', { stopped_at: at(4), duration_seconds: 2, manifest }));
    expect(withManifest).toMatchObject({ status: 'processing', manifest, stopped_at: at(4), duration_seconds: 2 });

    const without = fold(requested, claimed, stopRequested, recordingEvent('RecordingStopped', { stopped_at: at(3), duration_seconds: 0 }));
    expect(without.manifest).toBeNull();
  });

  it('a fresh recording starts with empty tracks, timeline, gaps and interruptions', () => {
    expect(fold(requested)).toMatchObject({ recorder_id: null, tracks: [], timeline: [], capture_gaps: [], manifest: null, interruptions: [] });
  });

  it('an event already folded in changes nothing', () => {
    const events = stream(requested, recordingEvent('RoomEventsRecorded', { events: [joined] }));
    const view = foldRecording(events);
    expect(projectRecording(view, events[1]!)).toBe(view);
    expect(view?.timeline).toEqual([joined]);
  });
});

describe('toIntegrationEvent for the rtp events', () => {
  /** The integration event of the last event of a stream, given the view after it. */
  function integrationOf(...events: RecordingEvent[]) {
    const stored = stream(...events);
    return toIntegrationEvent(stored.at(-1)!, foldRecording(stored) as RecordingView);
  }

  it("maps TrackRecorded to 'track.recorded' without the storage key", () => {
    const event = integrationOf(requested, claimed, started, recordingEvent('TracksRegistered', { tracks: [opus] }), recordingEvent('TrackRecorded', recordedOpus));
    expect(IntegrationEventSchema.safeParse(event).success).toBe(true);
    const { key: _key, ...withoutKey } = recordedOpus;
    expect(event).toEqual({
      id: 'evt_5',
      type: 'track.recorded',
      recording_id: RECORDING_ID,
      tenant_id: 'tenant-a',
      sequence: 5,
      occurred_at: at(4),
      source_type: 'rtp',
      metadata: { team: 'core' },
      data: withoutKey,
    });
    expect(event?.data).not.toHaveProperty('key');
  });

  it('has no integration event for the internal rtp events', () => {
    const internal: RecordingEvent[] = [
      recordingEvent('TracksRegistered', { tracks: [opus] }),
      recordingEvent('RoomEventsRecorded', { events: [{ type: 'peer_joined', peer_id: 'peer-a', at: T0 }] }),
      recordingEvent('CaptureGapRecorded', { reason: 'spill_limit', segment_index: null, packets: 1, bytes: 100, from: T0, to: at(1) }),
      recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-1', reason: 'lease_expired' }),
    ];
    for (const event of internal) expect(integrationOf(requested, claimed, started, event), event.type).toBeNull();
    const interrupted = recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-1', reason: 'lease_expired' });
    expect(integrationOf(requested, claimed, started, interrupted, recordingEvent('RecordingRecovered', { recorder_id: 'recorder-2', segments: 1, truncated_bytes: 0 }))).toBeNull();
  });
});
