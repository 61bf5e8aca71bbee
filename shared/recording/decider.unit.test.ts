import { describe, expect, it } from 'vitest';
import type {
  CompleteComposition,
  StartComposition,
  ClaimRecording,
  CompleteRecording,
  DeleteRecording,
  FailRecording,
  FinishCapture,
  InterruptRecording,
  PauseRecording,
  RecordCaptureGap,
  RecordingCommand,
  RecordRoomEvents,
  RecordTrack,
  RecoverRecording,
  RegisterTracks,
  RequestRecording,
  ResumeRecording,
  StartRecording,
  StopRecording,
} from './commands.ts';
import { decide, evolve, initialState, type RecordingState } from './decider.ts';
import { IdempotencyConflictError, InvalidTransitionError, RecordingNotFoundError, TrackConflictError } from './errors.ts';
import { RecordingEventSchema, recordingEvent, type RecordingEvent } from './events.ts';
import { DEFAULT_KEY_TEMPLATE, type Artifact, type Failure } from './model.ts';
import type { RecordedTrack, RegisteredTrack, TimelineEntry } from './tracks.ts';

// ---------------------------------------------------------------------------------------
// given / when / then over events (emmett style)
// ---------------------------------------------------------------------------------------

type ErrorClass = new (...args: never[]) => Error;

const fold = (events: readonly RecordingEvent[]): RecordingState => events.reduce(evolve, initialState());

function given(events: readonly RecordingEvent[]) {
  const state = fold(events);
  return {
    when(command: RecordingCommand) {
      const run = () => decide(command, state);
      return {
        then(expected: readonly RecordingEvent[]) {
          const produced = run();
          expect(produced).toEqual(expected);
          for (const event of produced) expect(RecordingEventSchema.safeParse(event).success).toBe(true);
          return produced;
        },
        thenThrows(errorClass: ErrorClass, message?: string | RegExp) {
          expect(run).toThrow(errorClass);
          if (message !== undefined) expect(run).toThrow(message);
        },
        thenNothing() {
          expect(run()).toEqual([]);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------
// fixtures: a fixed `now`, never the real clock
// ---------------------------------------------------------------------------------------

const NOW = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-01T10:01:30.000Z'; // NOW + 90 s
const metadata = { now: NOW };

const requestData: RequestRecording['data'] = {
  recording_id: 'rec_00000000000000000000000001',
  tenant_id: 'tenant-a',
  source: { type: 'rtp', room_id: 'room-1' },
  recording_name: 'weekly sync',
  metadata: { team: 'core', priority: 2, internal: true, note: null },
  storage_settings: { key_template: DEFAULT_KEY_TEMPLATE },
  webhook_url: 'https://hooks.example.com/capstan',
  outputs: ['composite.mp4', 'audio.m4a'],
  layout: { preset: 'grid', resolution: '1280x720' },
  request_hash: 'hash-1',
  idempotency_key: 'idem-1',
};

const cmd = {
  request: (data: Partial<RequestRecording['data']> = {}, now = NOW): RequestRecording => ({
    type: 'RequestRecording',
    metadata: { now },
    data: { ...requestData, ...data },
  }),
  claim: (recorder_id = 'recorder-1', ingest?: ClaimRecording['data']['ingest']): ClaimRecording => ({
    type: 'ClaimRecording',
    metadata,
    data: ingest === undefined ? { recorder_id } : { recorder_id, ingest },
  }),
  start: (now = NOW): StartRecording => ({ type: 'StartRecording', metadata: { now }, data: {} }),
  pause: (reason: string | null = 'lunch'): PauseRecording => ({ type: 'PauseRecording', metadata, data: { reason } }),
  resume: (): ResumeRecording => ({ type: 'ResumeRecording', metadata, data: {} }),
  stop: (reason: StopRecording['data']['reason'] = 'api'): StopRecording => ({ type: 'StopRecording', metadata, data: { reason } }),
  finish: (data: FinishCapture['data'] = {}, now = LATER): FinishCapture => ({ type: 'FinishCapture', metadata: { now }, data }),
  complete: (data: CompleteRecording['data']): CompleteRecording => ({ type: 'CompleteRecording', metadata, data }),
  startComposition: (data: Partial<StartComposition['data']> = {}): StartComposition => ({
    type: 'StartComposition',
    metadata: { now: LATER },
    data: { composition_id: CMP, compositor_id: 'compositor-1', lease_seconds: 600, ...data },
  }),
  completeComposition: (): CompleteComposition => ({
    type: 'CompleteComposition',
    metadata: { now: LATER },
    data: { composition_id: CMP, compositor_id: 'compositor-1', artifacts: [artifact], duration_seconds: 90 },
  }),
  fail: (data: Failure): FailRecording => ({ type: 'FailRecording', metadata, data }),
  delete: (reason: string | null = null): DeleteRecording => ({ type: 'DeleteRecording', metadata, data: { reason } }),
  registerTracks: (...tracks: RegisteredTrack[]): RegisterTracks => ({ type: 'RegisterTracks', metadata, data: { tracks } }),
  recordRoomEvents: (...events: TimelineEntry[]): RecordRoomEvents => ({ type: 'RecordRoomEvents', metadata, data: { events } }),
  recordTrack: (data: RecordedTrack): RecordTrack => ({ type: 'RecordTrack', metadata, data }),
  recordGap: (data: RecordCaptureGap['data']): RecordCaptureGap => ({ type: 'RecordCaptureGap', metadata, data }),
  interrupt: (recorder_id = 'recorder-1', reason = 'lease_expired'): InterruptRecording => ({ type: 'InterruptRecording', metadata, data: { recorder_id, reason } }),
  recover: (data: Partial<RecoverRecording['data']> = {}): RecoverRecording => ({
    type: 'RecoverRecording',
    metadata,
    data: { recorder_id: 'recorder-2', segments: 3, truncated_bytes: 0, ...data },
  }),
};

const MANIFEST = { key: 'tenant-a/rec_00000000000000000000000001/manifest.json', bytes: 812, sha256: 'ef'.repeat(32) };
const SPEC = { layout: { preset: 'grid' as const }, outputs: ['composite.mp4' as const, 'audio.m4a' as const] };
const CMP = 'cmp_000000000000000000000001';

const artifact: Artifact = {
  name: 'composite.mp4',
  kind: 'composite',
  key: 'tenant-a/rec_00000000000000000000000001/composite.mp4',
  content_type: 'video/mp4',
  bytes: 1024,
  duration_seconds: 90,
  sha256: 'ab'.repeat(32),
};
const providerFailure: Failure = { code: 'provider_down', message: 'the provider went away', failure_class: 'temporary', blame: 'provider' };

const ev = {
  requested: recordingEvent('RecordingRequested', requestData),
  scheduled: recordingEvent('RecordingScheduled', { join_at: '2026-03-01T11:00:00.000Z' }),
  claimed: recordingEvent('RecordingClaimed', { recorder_id: 'recorder-1' }),
  started: recordingEvent('RecordingStarted', { started_at: NOW }),
  paused: recordingEvent('RecordingPaused', { reason: 'lunch' }),
  resumed: recordingEvent('RecordingResumed', {}),
  stopRequested: recordingEvent('RecordingStopRequested', { reason: 'api' }),
  stopped: recordingEvent('RecordingStopped', { stopped_at: LATER, duration_seconds: 90 }),
  completed: recordingEvent('RecordingCompleted', { artifacts: [artifact], duration_seconds: 90 }),
  failed: recordingEvent('RecordingFailed', providerFailure),
  deleted: recordingEvent('RecordingDeleted', { reason: null }),
};

// Streams that leave the recording in each status.
const at = {
  requested: [ev.requested],
  scheduled: [ev.requested, ev.scheduled],
  starting: [ev.requested, ev.claimed],
  recording: [ev.requested, ev.claimed, ev.started],
  paused: [ev.requested, ev.claimed, ev.started, ev.paused],
  stopping: [ev.requested, ev.claimed, ev.started, ev.stopRequested],
  processing: [ev.requested, ev.claimed, ev.started, ev.stopRequested, ev.stopped],
  completed: [ev.requested, ev.claimed, ev.started, ev.stopRequested, ev.stopped, ev.completed],
  failed: [ev.requested, ev.claimed, ev.failed],
  deleted: [ev.requested, ev.claimed, ev.started, ev.stopRequested, ev.stopped, ev.completed, ev.deleted],
} satisfies Record<Exclude<RecordingState['status'], 'empty'>, RecordingEvent[]>;

describe('fixtures', () => {
  it.each(Object.entries(at))('the %s stream folds to that status', (status, events) => {
    expect(fold(events).status).toBe(status);
  });
});

// ---------------------------------------------------------------------------------------
// one emits / refuses / no-op per command
// ---------------------------------------------------------------------------------------

describe('RequestRecording', () => {
  it('emits RecordingRequested with the whole request on an empty stream', () => {
    given([]).when(cmd.request()).then([{ type: 'RecordingRequested', schema_version: 1, data: requestData }]);
  });

  it('refuses the same recording id with a different request hash', () => {
    given(at.requested).when(cmd.request({ request_hash: 'hash-2' })).thenThrows(IdempotencyConflictError, /idem-1/);
  });

  it('does nothing when the same request (same hash) is repeated, whatever happened since', () => {
    given(at.requested).when(cmd.request()).thenNothing();
    given(at.completed).when(cmd.request()).thenNothing();
  });

  describe('bot source with join_at (time comes only from command.metadata.now)', () => {
    // The dates are chosen against the real clock: if decide read Date.now() these would flip.
    const bot = (join_at: string) => ({ type: 'bot' as const, meeting_url: 'https://meet.example.com/abc', join_at });

    it('emits RecordingRequested + RecordingScheduled when join_at is after now (even though it is past in real time)', () => {
      const source = bot('2001-01-01T09:00:00.000Z');
      given([])
        .when(cmd.request({ source }, '2001-01-01T08:00:00.000Z'))
        .then([
          { type: 'RecordingRequested', schema_version: 1, data: { ...requestData, source } },
          { type: 'RecordingScheduled', schema_version: 1, data: { join_at: '2001-01-01T09:00:00.000Z' } },
        ]);
    });

    it('emits only RecordingRequested when join_at is before now (even though it is future in real time)', () => {
      const source = bot('2999-01-01T09:00:00.000Z');
      given([])
        .when(cmd.request({ source }, '2999-01-01T10:00:00.000Z'))
        .then([{ type: 'RecordingRequested', schema_version: 1, data: { ...requestData, source } }]);
    });

    it('emits only RecordingRequested when join_at equals now', () => {
      const source = bot(NOW);
      given([]).when(cmd.request({ source }, NOW)).then([{ type: 'RecordingRequested', schema_version: 1, data: { ...requestData, source } }]);
    });

    it('compares instants, not strings: an offset join_at later than now is scheduled', () => {
      // 12:30+02:00 is 10:30Z, after NOW (10:00Z), although the string sorts before it.
      const source = bot('2026-03-01T12:30:00+02:00');
      const events = given([]).when(cmd.request({ source }, NOW)).then([
        { type: 'RecordingRequested', schema_version: 1, data: { ...requestData, source } },
        { type: 'RecordingScheduled', schema_version: 1, data: { join_at: '2026-03-01T12:30:00+02:00' } },
      ]);
      expect(fold(events).status).toBe('scheduled');
    });

    it('is deterministic: the same command and state always give the same events', () => {
      const command = cmd.request({ source: bot('2030-01-01T00:00:00.000Z') });
      expect(decide(command, initialState())).toEqual(decide(command, initialState()));
    });
  });
});

describe('ClaimRecording', () => {
  it('emits RecordingClaimed from requested, with the ingest endpoint', () => {
    const ingest = { protocol: 'rtp' as const, host: '10.0.0.5', port: 40000, rtcp_port: 40001 };
    given(at.requested)
      .when(cmd.claim('recorder-9', ingest))
      .then([{ type: 'RecordingClaimed', schema_version: 1, data: { recorder_id: 'recorder-9', ingest } }]);
  });

  it('emits RecordingClaimed from scheduled', () => {
    given(at.scheduled).when(cmd.claim()).then([{ type: 'RecordingClaimed', schema_version: 1, data: { recorder_id: 'recorder-1' } }]);
  });

  it('refuses a claim by another recorder once claimed', () => {
    given(at.starting).when(cmd.claim('recorder-2')).thenThrows(InvalidTransitionError, /already claimed by recorder-1/);
  });

  it('refuses a claim on a missing recording', () => {
    given([]).when(cmd.claim()).thenThrows(RecordingNotFoundError);
  });

  it('does nothing when the same recorder claims again', () => {
    given(at.starting).when(cmd.claim('recorder-1')).thenNothing();
  });
});

describe('StartRecording', () => {
  it('emits RecordingStarted at metadata.now from starting', () => {
    given(at.starting).when(cmd.start()).then([{ type: 'RecordingStarted', schema_version: 1, data: { started_at: NOW } }]);
  });

  it('refuses to start a stopping recording', () => {
    given(at.stopping).when(cmd.start()).thenThrows(InvalidTransitionError, 'cannot start a recording that is stopping');
  });

  it('does nothing when already recording or paused', () => {
    given(at.recording).when(cmd.start()).thenNothing();
    given(at.paused).when(cmd.start()).thenNothing();
  });
});

describe('PauseRecording', () => {
  it('emits RecordingPaused with the reason while recording', () => {
    given(at.recording).when(cmd.pause('lunch')).then([{ type: 'RecordingPaused', schema_version: 1, data: { reason: 'lunch' } }]);
  });

  it('refuses to pause a recording that has not started', () => {
    given(at.requested).when(cmd.pause()).thenThrows(InvalidTransitionError, /cannot pause a recording that is requested: only a recording in progress/);
  });

  it('does nothing when already paused', () => {
    given(at.paused).when(cmd.pause()).thenNothing();
  });
});

describe('ResumeRecording', () => {
  it('emits RecordingResumed when paused', () => {
    given(at.paused).when(cmd.resume()).then([{ type: 'RecordingResumed', schema_version: 1, data: {} }]);
  });

  it('refuses to resume a recording that is not paused', () => {
    given(at.stopping).when(cmd.resume()).thenThrows(InvalidTransitionError, /only a paused recording can be resumed/);
  });

  it('does nothing when already recording', () => {
    given(at.recording).when(cmd.resume()).thenNothing();
  });
});

describe('StopRecording', () => {
  it('emits RecordingStopRequested while recording', () => {
    given(at.recording).when(cmd.stop('max_duration')).then([{ type: 'RecordingStopRequested', schema_version: 1, data: { reason: 'max_duration' } }]);
  });

  it('from requested emits StopRequested + Failed(stopped_before_start, permanent, customer)', () => {
    const events = given(at.requested)
      .when(cmd.stop())
      .then([
        { type: 'RecordingStopRequested', schema_version: 1, data: { reason: 'api' } },
        {
          type: 'RecordingFailed',
          schema_version: 1,
          data: {
            code: 'stopped_before_start',
            message: 'the recording was stopped before any media was captured',
            failure_class: 'permanent',
            blame: 'customer',
          },
        },
      ]);
    expect(fold([...at.requested, ...events]).status).toBe('failed');
  });

  it('from scheduled also ends the recording as failed', () => {
    const events = decide(cmd.stop(), fold(at.scheduled));
    expect(events.map((e) => e.type)).toEqual(['RecordingStopRequested', 'RecordingFailed']);
  });

  it('refuses to stop a failed or deleted recording', () => {
    given(at.failed).when(cmd.stop()).thenThrows(InvalidTransitionError, 'cannot stop a recording that is failed');
    given(at.deleted).when(cmd.stop()).thenThrows(InvalidTransitionError);
  });

  it('does nothing when already stopping, processing or completed', () => {
    given(at.stopping).when(cmd.stop()).thenNothing();
    given(at.processing).when(cmd.stop()).thenNothing();
    given(at.completed).when(cmd.stop()).thenNothing();
  });
});

describe('FinishCapture', () => {
  const manifest = { key: 'tenant-a/rec_00000000000000000000000001/manifest.json', bytes: 812, sha256: 'ef'.repeat(32) };

  it('emits RecordingStopped with the duration since started_at, measured on metadata.now', () => {
    given(at.stopping).when(cmd.finish({ manifest }, LATER)).then([{ type: 'RecordingStopped', schema_version: 1, data: { stopped_at: LATER, duration_seconds: 90, manifest } }]);
  });

  it('prefers the duration the recorder reports', () => {
    given(at.recording).when(cmd.finish({ duration_seconds: 42.5, manifest })).then([
      { type: 'RecordingStopped', schema_version: 1, data: { stopped_at: LATER, duration_seconds: 42.5, manifest } },
    ]);
  });

  it('fails an rtp recording that captured nothing (no manifest): there is nothing to compose', () => {
    given(at.starting).when(cmd.finish({}, LATER)).then([
      { type: 'RecordingStopped', schema_version: 1, data: { stopped_at: LATER, duration_seconds: 0 } },
      { type: 'RecordingFailed', schema_version: 1, data: { code: 'no_media', message: 'no media was captured', failure_class: 'permanent', blame: 'customer' } },
    ]);
  });

  it('carries the sync manifest the recorder wrote', () => {
    const events = given(at.stopping).when(cmd.finish({ manifest }, LATER)).then([
      { type: 'RecordingStopped', schema_version: 1, data: { stopped_at: LATER, duration_seconds: 90, manifest } },
    ]);
    expect(fold([...at.stopping, ...events]).status).toBe('processing');
  });

  it('refuses to finish a capture that never started', () => {
    given(at.requested).when(cmd.finish()).thenThrows(InvalidTransitionError, 'cannot finish capture a recording that is requested');
  });

  it('does nothing once processing or completed', () => {
    given(at.processing).when(cmd.finish()).thenNothing();
    given(at.completed).when(cmd.finish()).thenNothing();
  });
});

describe('CompleteRecording', () => {
  it('emits RecordingCompleted with the artifacts while processing', () => {
    given(at.processing)
      .when(cmd.complete({ artifacts: [artifact], duration_seconds: 90 }))
      .then([{ type: 'RecordingCompleted', schema_version: 1, data: { artifacts: [artifact], duration_seconds: 90 } }]);
  });

  it('refuses to complete before the capture has stopped', () => {
    given(at.recording)
      .when(cmd.complete({ artifacts: [], duration_seconds: 0 }))
      .thenThrows(InvalidTransitionError, /a recording completes after its capture has stopped/);
  });

  it('does nothing when already completed', () => {
    given(at.completed).when(cmd.complete({ artifacts: [artifact], duration_seconds: 90 })).thenNothing();
  });
});

describe('FailRecording', () => {
  it('emits RecordingFailed from a live state', () => {
    given(at.recording).when(cmd.fail(providerFailure)).then([{ type: 'RecordingFailed', schema_version: 1, data: providerFailure }]);
  });

  it('refuses to fail a completed or deleted recording', () => {
    given(at.completed).when(cmd.fail(providerFailure)).thenThrows(InvalidTransitionError, 'cannot fail a recording that is completed');
    given(at.deleted).when(cmd.fail(providerFailure)).thenThrows(InvalidTransitionError);
  });

  it('does nothing when already failed', () => {
    given(at.failed).when(cmd.fail(providerFailure)).thenNothing();
  });
});

describe('DeleteRecording', () => {
  it('emits RecordingDeleted from completed, failed, requested or scheduled', () => {
    for (const stream of [at.completed, at.failed, at.requested, at.scheduled]) {
      given(stream).when(cmd.delete('gdpr')).then([{ type: 'RecordingDeleted', schema_version: 1, data: { reason: 'gdpr' } }]);
    }
  });

  it('refuses while recording: stop it first', () => {
    given(at.recording).when(cmd.delete()).thenThrows(InvalidTransitionError, 'cannot delete a recording that is recording: stop it first');
    for (const stream of [at.starting, at.paused, at.stopping, at.processing]) {
      given(stream).when(cmd.delete()).thenThrows(InvalidTransitionError, /stop it first/);
    }
  });

  it('does nothing when already deleted', () => {
    given(at.deleted).when(cmd.delete()).thenNothing();
  });
});

// ---------------------------------------------------------------------------------------
// rtp tracks, room timeline and recorder reports
// ---------------------------------------------------------------------------------------

const track = (overrides: Partial<RegisteredTrack> = {}): RegisteredTrack => ({
  track_id: 'trk_1',
  ssrc: 1111,
  payload_type: 97,
  codec: 'opus',
  clock_rate: 48000,
  channels: 2,
  kind: 'audio',
  peer_id: 'peer-a',
  display_name: 'Ada',
  track_type: 'microphone',
  registered_at: NOW,
  ...overrides,
});
const opusTrack = track();
const vp8Track = track({ track_id: 'trk_2', ssrc: 2222, payload_type: 96, codec: 'vp8', clock_rate: 90000, channels: null, kind: 'video', track_type: 'camera' });
const registered = (...tracks: RegisteredTrack[]) => recordingEvent('TracksRegistered', { tracks });

const recordedTrack = (overrides: Partial<RecordedTrack> = {}): RecordedTrack => ({
  track_id: 'trk_1',
  ssrc: 1111,
  key: 'tenant-a/rec_00000000000000000000000001/tracks/trk_1.ogg',
  file_name: 'trk_1.ogg',
  content_type: 'audio/ogg',
  container: 'ogg',
  bytes: 4096,
  sha256: 'cd'.repeat(32),
  duration_seconds: 89.5,
  first_packet_at: NOW,
  stats: { packets: 4475, lost: 2, duplicates: 0, reordered: 1, gaps: 0 },
  ...overrides,
});

const gap = (segment_index: number | null = 4): RecordCaptureGap['data'] => ({
  reason: 'upload_failed',
  segment_index,
  packets: 250,
  bytes: 40_000,
  from: NOW,
  to: LATER,
});

const peerJoined: TimelineEntry = { type: 'peer_joined', peer_id: 'peer-a', display_name: 'Ada', at: NOW };
const producerPaused: TimelineEntry = { type: 'producer_paused', peer_id: 'peer-a', ssrc: 1111, at: LATER };

const botRequested = recordingEvent('RecordingRequested', { ...requestData, source: { type: 'bot', meeting_url: 'https://meet.example.com/abc' } });
const streamRequested = recordingEvent('RecordingRequested', {
  ...requestData,
  source: { type: 'stream', encoding: 'pcm_s16le', sample_rate: 16000 },
  outputs: ['audio.wav'],
});
const interrupted = recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-1', reason: 'lease_expired' });

describe('RegisterTracks', () => {
  it('emits TracksRegistered with every track on an rtp recording that has none', () => {
    given(at.requested).when(cmd.registerTracks(opusTrack, vp8Track)).then([
      { type: 'TracksRegistered', schema_version: 1, data: { tracks: [opusTrack, vp8Track] } },
    ]);
  });

  it('emits only the tracks whose SSRC is new, while recording or paused', () => {
    const known = [...at.recording, registered(opusTrack)];
    const retried = track({ track_id: 'trk_9' }); // same SSRC, codec and payload type: a retry
    given(known).when(cmd.registerTracks(retried, vp8Track)).then([{ type: 'TracksRegistered', schema_version: 1, data: { tracks: [vp8Track] } }]);
    given([...at.paused, registered(opusTrack)]).when(cmd.registerTracks(vp8Track)).then([registered(vp8Track)]);
  });

  it('folds the registered tracks into the state the decider keeps', () => {
    const state = fold([...at.starting, registered(opusTrack, vp8Track)]);
    expect(state).toMatchObject({
      tracks: [
        { ssrc: 1111, payload_type: 97, codec: 'opus' },
        { ssrc: 2222, payload_type: 96, codec: 'vp8' },
      ],
    });
  });

  it('does nothing when every SSRC is already registered with the same codec and payload type', () => {
    const known = [...at.recording, registered(opusTrack, vp8Track)];
    given(known).when(cmd.registerTracks(track({ track_id: 'trk_7', peer_id: 'someone-else' }), track({ ...vp8Track, track_id: 'trk_8' }))).thenNothing();
    given(known).when(cmd.registerTracks(opusTrack)).thenNothing();
  });

  it('refuses a bot or stream recording: tracks are registered on rtp recordings', () => {
    given([botRequested]).when(cmd.registerTracks(opusTrack)).thenThrows(InvalidTransitionError, /tracks are registered on rtp recordings/);
    given([streamRequested]).when(cmd.registerTracks(opusTrack)).thenThrows(InvalidTransitionError, /tracks are registered on rtp recordings/);
  });

  it('refuses once the capture has ended (stopping and after)', () => {
    given(at.stopping).when(cmd.registerTracks(opusTrack)).thenThrows(InvalidTransitionError, 'cannot register tracks a recording that is stopping: the capture has ended');
    for (const stream of [at.processing, at.completed, at.failed, at.deleted]) {
      given(stream).when(cmd.registerTracks(opusTrack)).thenThrows(InvalidTransitionError, /the capture has ended/);
    }
  });

  it('refuses the same SSRC with another codec or payload type (TrackConflictError)', () => {
    const known = [...at.recording, registered(opusTrack)];
    given(known)
      .when(cmd.registerTracks(track({ track_id: 'trk_3', codec: 'vp8', payload_type: 97, kind: 'video', clock_rate: 90000, channels: null })))
      .thenThrows(TrackConflictError, 'SSRC 1111 is already registered as opus with payload type 97');
    given(known).when(cmd.registerTracks(track({ track_id: 'trk_3', payload_type: 111 }))).thenThrows(TrackConflictError, /SSRC 1111/);
  });

  it('a conflict refuses the whole request, new tracks in it included', () => {
    const conflicting = track({ track_id: 'trk_3', payload_type: 111 });
    given([...at.recording, registered(opusTrack)]).when(cmd.registerTracks(vp8Track, conflicting)).thenThrows(TrackConflictError);
  });

  describe('without an SSRC (latched later by payload type, as for an ffmpeg SDP)', () => {
    const latchOpus = track({ track_id: 'trk_4', ssrc: null });
    const latchVp8 = track({ ...vp8Track, track_id: 'trk_5', ssrc: null });

    it('emits a null-SSRC track whose payload type is new', () => {
      given([...at.recording, registered(latchOpus)]).when(cmd.registerTracks(latchVp8)).then([registered(latchVp8)]);
    });

    it('does nothing for a null-SSRC track with an already registered payload type and codec', () => {
      given([...at.recording, registered(latchOpus, latchVp8)]).when(cmd.registerTracks(track({ ...latchOpus, track_id: 'trk_6' }), latchVp8)).thenNothing();
    });

    it('refuses a null-SSRC track with a known payload type but another codec', () => {
      given([...at.recording, registered(latchOpus)])
        .when(cmd.registerTracks(track({ ...vp8Track, track_id: 'trk_6', ssrc: null, payload_type: 97 })))
        .thenThrows(TrackConflictError, /as opus with payload type 97/);
    });

    it('is not confused with a track that has an SSRC and the same payload type', () => {
      given([...at.recording, registered(opusTrack)]).when(cmd.registerTracks(latchOpus)).then([registered(latchOpus)]);
    });
  });

  describe('duplicates inside one request', () => {
    it('registers an SSRC repeated identically in one request once', () => {
      given(at.recording).when(cmd.registerTracks(opusTrack, track({ track_id: 'trk_9' }), vp8Track)).then([registered(opusTrack, vp8Track)]);
      const latch = track({ ssrc: null });
      given(at.recording).when(cmd.registerTracks(latch, track({ ssrc: null, track_id: 'trk_9' }))).then([registered(latch)]);
    });

    it('refuses one request that gives an SSRC two codecs', () => {
      given(at.recording)
        .when(cmd.registerTracks(opusTrack, track({ track_id: 'trk_9', payload_type: 96, codec: 'vp8', kind: 'video', clock_rate: 90000, channels: null })))
        .thenThrows(TrackConflictError, /SSRC 1111 is already registered as opus with payload type 97/);
    });
  });
});

describe('RecordRoomEvents', () => {
  it('emits RoomEventsRecorded with the entries, from requested through stopping', () => {
    for (const stream of [at.requested, at.starting, at.recording, at.paused, at.stopping]) {
      given(stream).when(cmd.recordRoomEvents(peerJoined, producerPaused)).then([
        { type: 'RoomEventsRecorded', schema_version: 1, data: { events: [peerJoined, producerPaused] } },
      ]);
    }
  });

  it('leaves the decider state as it was (the timeline lives in the view)', () => {
    const before = fold(at.recording);
    expect(evolve(before, recordingEvent('RoomEventsRecorded', { events: [peerJoined] }))).toEqual(before);
  });

  it('refuses a bot or stream recording', () => {
    given([botRequested]).when(cmd.recordRoomEvents(peerJoined)).thenThrows(InvalidTransitionError, /room events are recorded on rtp recordings/);
    given([streamRequested]).when(cmd.recordRoomEvents(peerJoined)).thenThrows(InvalidTransitionError, /room events are recorded on rtp recordings/);
  });

  it('refuses once the capture has ended (processing, completed, failed)', () => {
    given(at.completed).when(cmd.recordRoomEvents(peerJoined)).thenThrows(InvalidTransitionError, 'cannot record room events a recording that is completed: the capture has ended');
    given(at.processing).when(cmd.recordRoomEvents(peerJoined)).thenThrows(InvalidTransitionError);
    given(at.failed).when(cmd.recordRoomEvents(peerJoined)).thenThrows(InvalidTransitionError);
  });
});

describe('RecordTrack', () => {
  it('emits TrackRecorded while recording or stopping', () => {
    const data = recordedTrack();
    given([...at.recording, registered(opusTrack)]).when(cmd.recordTrack(data)).then([{ type: 'TrackRecorded', schema_version: 1, data }]);
    given([...at.stopping, registered(opusTrack)]).when(cmd.recordTrack(data)).then([{ type: 'TrackRecorded', schema_version: 1, data }]);
  });

  it('emits for another SSRC once one is recorded', () => {
    const second = recordedTrack({ track_id: 'trk_2', ssrc: 2222, file_name: 'trk_2.webm', container: 'webm', content_type: 'video/webm' });
    given([...at.stopping, recordingEvent('TrackRecorded', recordedTrack())]).when(cmd.recordTrack(second)).then([recordingEvent('TrackRecorded', second)]);
  });

  it('does nothing for an SSRC already recorded, even after the capture stopped', () => {
    const done = recordingEvent('TrackRecorded', recordedTrack());
    given([...at.stopping, done]).when(cmd.recordTrack(recordedTrack({ bytes: 1 }))).thenNothing();
    given([...at.stopping, done, ev.stopped]).when(cmd.recordTrack(recordedTrack())).thenNothing();
  });

  it('refuses when no recorder holds the recording', () => {
    given(at.requested).when(cmd.recordTrack(recordedTrack())).thenThrows(InvalidTransitionError, 'cannot record track a recording that is requested');
    given(at.processing).when(cmd.recordTrack(recordedTrack())).thenThrows(InvalidTransitionError);
  });
});

describe('RecordCaptureGap', () => {
  it('emits CaptureGapRecorded while claimed', () => {
    for (const stream of [at.starting, at.recording, at.paused, at.stopping]) {
      given(stream).when(cmd.recordGap(gap(4))).then([{ type: 'CaptureGapRecorded', schema_version: 1, data: gap(4) }]);
    }
  });

  it('emits each gap that has no segment index (they cannot be told apart)', () => {
    const first = recordingEvent('CaptureGapRecorded', { ...gap(null), reason: 'unknown_ssrc_expired' });
    given([...at.recording, first]).when(cmd.recordGap(gap(null))).then([recordingEvent('CaptureGapRecorded', gap(null))]);
  });

  it('does nothing for a segment_index already recorded', () => {
    given([...at.recording, recordingEvent('CaptureGapRecorded', gap(4))]).when(cmd.recordGap({ ...gap(4), packets: 1 })).thenNothing();
  });

  it('refuses when no recorder holds the recording', () => {
    given(at.requested).when(cmd.recordGap(gap(4))).thenThrows(InvalidTransitionError, 'cannot record capture gap a recording that is requested');
    given(at.processing).when(cmd.recordGap(gap(4))).thenThrows(InvalidTransitionError);
  });
});

describe('InterruptRecording', () => {
  it('emits RecordingInterrupted while claimed', () => {
    for (const stream of [at.starting, at.recording, at.paused, at.stopping]) {
      given(stream).when(cmd.interrupt()).then([{ type: 'RecordingInterrupted', schema_version: 1, data: { recorder_id: 'recorder-1', reason: 'lease_expired' } }]);
    }
    expect(fold([...at.recording, interrupted])).toMatchObject({ status: 'recording', interrupted_by: 'recorder-1' });
  });

  it('does nothing when already interrupted', () => {
    given([...at.recording, interrupted]).when(cmd.interrupt()).thenNothing();
    given([...at.recording, interrupted]).when(cmd.interrupt('recorder-1', 'another reason')).thenNothing();
  });

  it('refuses a recording no recorder holds', () => {
    given(at.requested).when(cmd.interrupt()).thenThrows(InvalidTransitionError, 'cannot interrupt a recording that is requested');
    given(at.completed).when(cmd.interrupt()).thenThrows(InvalidTransitionError);
  });
});

describe('RecoverRecording', () => {
  it('emits RecordingRecovered after an interruption, and the new recorder holds it', () => {
    const events = given([...at.recording, interrupted]).when(cmd.recover()).then([
      { type: 'RecordingRecovered', schema_version: 1, data: { recorder_id: 'recorder-2', segments: 3, truncated_bytes: 0 } },
    ]);
    expect(fold([...at.recording, interrupted, ...events])).toMatchObject({ status: 'recording', claimed_by: 'recorder-2', interrupted_by: null });
  });

  it('refuses a recording that is not interrupted (including one already recovered)', () => {
    given(at.recording).when(cmd.recover()).thenThrows(InvalidTransitionError, 'cannot recover a recording that is recording: only an interrupted recording is recovered');
    given(at.requested).when(cmd.recover()).thenThrows(InvalidTransitionError);
    const byOther = recordingEvent('RecordingRecovered', { recorder_id: 'recorder-9', segments: 3, truncated_bytes: 0 });
    given([...at.recording, interrupted, byOther]).when(cmd.recover()).thenThrows(InvalidTransitionError, /only an interrupted recording/);
  });

  it('a retried recovery by the same recorder is a no-op', () => {
    const recovered = recordingEvent('RecordingRecovered', { recorder_id: 'recorder-2', segments: 3, truncated_bytes: 0 });
    given([...at.recording, interrupted, recovered]).when(cmd.recover()).thenNothing();
  });

  it('after recovery the recording can be interrupted again', () => {
    const recovered = recordingEvent('RecordingRecovered', { recorder_id: 'recorder-2', segments: 3, truncated_bytes: 0 });
    given([...at.recording, interrupted, recovered]).when(cmd.interrupt('recorder-2')).then([
      recordingEvent('RecordingInterrupted', { recorder_id: 'recorder-2', reason: 'lease_expired' }),
    ]);
  });
});

describe('a missing recording', () => {
  const commands: RecordingCommand[] = [
    cmd.claim(),
    cmd.start(),
    cmd.pause(),
    cmd.resume(),
    cmd.stop(),
    cmd.finish(),
    cmd.complete({ artifacts: [], duration_seconds: 0 }),
    cmd.fail(providerFailure),
    cmd.delete(),
    cmd.registerTracks(track()),
    cmd.recordRoomEvents({ type: 'peer_left', peer_id: 'peer-a', at: NOW }),
    cmd.recordTrack(recordedTrack()),
    cmd.recordGap(gap()),
    cmd.interrupt(),
    cmd.recover(),
  ];
  it.each(commands.map((c) => [c.type, c] as const))('%s on an empty stream throws RecordingNotFoundError', (_type, command) => {
    given([]).when(command).thenThrows(RecordingNotFoundError);
  });
});

// ---------------------------------------------------------------------------------------
// whole lifecycle
// ---------------------------------------------------------------------------------------

describe('lifecycle', () => {
  const walk: [RecordingCommand, RecordingState['status']][] = [
    [cmd.request(), 'requested'],
    [cmd.claim(), 'starting'],
    [cmd.start(), 'recording'],
    [cmd.pause(), 'paused'],
    [cmd.resume(), 'recording'],
    [cmd.stop(), 'stopping'],
    [cmd.finish({ manifest: MANIFEST }), 'processing'],
    [cmd.startComposition({ request: SPEC }), 'processing'],
    [cmd.completeComposition(), 'completed'],
    [cmd.delete('retention'), 'deleted'],
  ];

  function runWalk() {
    let state = initialState();
    const produced: RecordingEvent[] = [];
    const statuses: string[] = [];
    for (const [command] of walk) {
      const events = decide(command, state);
      expect(events.length).toBeGreaterThan(0);
      state = events.reduce(evolve, state);
      produced.push(...events);
      statuses.push(state.status);
    }
    return { state, produced, statuses };
  }

  it('walks requested → starting → recording → paused → recording → stopping → processing → completed → deleted', () => {
    const { state, produced, statuses } = runWalk();
    expect(statuses).toEqual(walk.map(([, status]) => status));
    expect(produced.map((e) => e.type)).toEqual([
      'RecordingRequested',
      'RecordingClaimed',
      'RecordingStarted',
      'RecordingPaused',
      'RecordingResumed',
      'RecordingStopRequested',
      'RecordingStopped',
      'CompositionRequested',
      'CompositionStarted',
      'CompositionCompleted',
      'RecordingCompleted',
      'RecordingDeleted',
    ]);
    expect(state).toEqual({
      status: 'deleted',
      recording_id: requestData.recording_id,
      tenant_id: requestData.tenant_id,
      source_type: 'rtp',
      request_hash: 'hash-1',
      idempotency_key: 'idem-1',
      claimed_by: 'recorder-1',
      started_at: NOW,
      tracks: [],
      recorded_ssrcs: [],
      gap_segments: [],
      interrupted_by: null,
      manifest: MANIFEST,
      duration_seconds: 90,
      failure_code: null,
      recorder_artifacts: [],
      compositions: {
        [CMP]: {
          status: 'completed',
          initial: true,
          compositor_id: 'compositor-1',
          heartbeat_at: LATER,
          lease_seconds: 600,
          attempts: 1,
          artifacts: [artifact],
          failure: null,
        },
      },
    });
  });

  it('every event the decider produces validates against RecordingEventSchema', () => {
    const { produced } = runWalk();
    const more = [
      ...decide(cmd.request({ source: { type: 'bot', meeting_url: 'https://meet.example.com/x', join_at: '2026-03-02T00:00:00Z' } }), initialState()),
      ...decide(cmd.request({ source: { type: 'stream', encoding: 'mulaw', sample_rate: 8000 }, outputs: ['audio.wav'] }), initialState()),
      ...decide(cmd.stop(), fold(at.requested)),
      ...decide(cmd.fail(providerFailure), fold(at.paused)),
      ...decide(cmd.claim('recorder-2', { protocol: 'websocket', url: 'wss://ingest.example.com/1' }), fold(at.requested)),
      ...decide(cmd.finish({ duration_seconds: 3 }), fold(at.paused)),
    ];
    const all = [...produced, ...more];
    expect(all.length).toBe(12 + 2 + 1 + 2 + 1 + 1 + 2);
    for (const event of all) {
      const parsed = RecordingEventSchema.safeParse(event);
      expect(parsed.success, `${event.type}: ${parsed.error?.message}`).toBe(true);
      expect(parsed.data).toEqual(event);
    }
  });

  it('evolve ignores anything but RecordingRequested on an empty stream', () => {
    expect(evolve(initialState(), ev.started)).toEqual({ status: 'empty' });
  });
});
