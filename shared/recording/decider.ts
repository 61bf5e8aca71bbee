/**
 * The recording aggregate as a decider: `decide(command, state) → events`,
 * `evolve(state, event) → state`, `initialState()`.
 *
 *   requested → (scheduled) → starting → recording ⇄ paused → stopping → processing → completed
 *   any live state → failed;  completed | failed | requested | scheduled → deleted
 *
 * Pure: no clock, no ids, no I/O. An empty array means "already done" (a no-op), so retries
 * of the same command are harmless.
 */
import { trackArtifact } from './artifacts.ts';
import type { RecordingCommand } from './commands.ts';
import { decideComposition, evolveCompositions, settleAfterCapture, type CompositionHost } from './composition-decider.ts';
import { IdempotencyConflictError, InvalidTransitionError, RecordingNotFoundError, TrackConflictError } from './errors.ts';
import { recordingEvent, type RecordingEvent } from './events.ts';
import type { RecordingStatus, SourceType } from './model.ts';

export interface ExistingRecording extends CompositionHost {
  readonly status: RecordingStatus;
  readonly recording_id: string;
  readonly tenant_id: string;
  readonly source_type: SourceType;
  readonly request_hash: string;
  readonly idempotency_key: string | null;
  readonly claimed_by: string | null;
  readonly started_at: string | null;
  /** Registered tracks, by what identifies them on the wire. */
  readonly tracks: readonly { ssrc: number | null; payload_type: number; codec: string }[];
  readonly recorded_ssrcs: readonly number[];
  readonly gap_segments: readonly (number | null)[];
  readonly interrupted_by: string | null;
}

export type RecordingState = { readonly status: 'empty' } | ExistingRecording;

export const initialState = (): RecordingState => ({ status: 'empty' });

const LIVE: readonly RecordingStatus[] = ['requested', 'scheduled', 'starting', 'recording', 'paused', 'stopping', 'processing'];
/** While media can still arrive: tracks may be registered and room events recorded. */
const CAPTURING: readonly RecordingStatus[] = ['requested', 'scheduled', 'starting', 'recording', 'paused'];
/** While a recorder holds the recording. */
const CLAIMED: readonly RecordingStatus[] = ['starting', 'recording', 'paused', 'stopping'];

function existing(state: RecordingState, command: RecordingCommand): ExistingRecording {
  if (state.status === 'empty') throw new RecordingNotFoundError('(new stream)', { cause: command.type });
  return state;
}

function refuse(command: RecordingCommand, state: ExistingRecording, hint?: string): never {
  throw new InvalidTransitionError(verb(command.type), state.status, hint);
}

const verb = (type: RecordingCommand['type']): string =>
  type.replace(/Recording$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

function secondsBetween(fromIso: string | null, toIso: string): number {
  if (fromIso === null) return 0;
  return Math.max(0, (Date.parse(toIso) - Date.parse(fromIso)) / 1000);
}

export function decide(command: RecordingCommand, state: RecordingState): RecordingEvent[] {
  const now = command.metadata.now;
  switch (command.type) {
    case 'RequestRecording': {
      if (state.status !== 'empty') {
        if (state.request_hash === command.data.request_hash) return [];
        throw new IdempotencyConflictError(command.data.idempotency_key);
      }
      const events: RecordingEvent[] = [recordingEvent('RecordingRequested', command.data)];
      const source = command.data.source;
      if (source.type === 'bot' && source.join_at !== undefined && Date.parse(source.join_at) > Date.parse(now)) {
        events.push(recordingEvent('RecordingScheduled', { join_at: source.join_at }));
      }
      return events;
    }
    case 'ClaimRecording': {
      const s = existing(state, command);
      if (s.status === 'starting' && s.claimed_by === command.data.recorder_id) return [];
      if (s.status !== 'requested' && s.status !== 'scheduled') {
        return refuse(command, s, s.claimed_by ? `already claimed by ${s.claimed_by}` : undefined);
      }
      return [recordingEvent('RecordingClaimed', command.data)];
    }
    case 'StartRecording': {
      const s = existing(state, command);
      if (s.status === 'recording' || s.status === 'paused') return [];
      if (s.status !== 'requested' && s.status !== 'scheduled' && s.status !== 'starting') return refuse(command, s);
      return [recordingEvent('RecordingStarted', { started_at: now })];
    }
    case 'PauseRecording': {
      const s = existing(state, command);
      if (s.status === 'paused') return [];
      if (s.status !== 'recording') return refuse(command, s, 'only a recording in progress can be paused');
      return [recordingEvent('RecordingPaused', command.data)];
    }
    case 'ResumeRecording': {
      const s = existing(state, command);
      if (s.status === 'recording') return [];
      if (s.status !== 'paused') return refuse(command, s, 'only a paused recording can be resumed');
      return [recordingEvent('RecordingResumed', {})];
    }
    case 'StopRecording': {
      const s = existing(state, command);
      if (s.status === 'stopping' || s.status === 'processing' || s.status === 'completed') return [];
      if (s.status === 'requested' || s.status === 'scheduled') {
        // Nothing was captured and no recorder holds it: end it now rather than wait forever.
        return [
          recordingEvent('RecordingStopRequested', command.data),
          recordingEvent('RecordingFailed', {
            code: 'stopped_before_start',
            message: 'the recording was stopped before any media was captured',
            failure_class: 'permanent',
            blame: 'customer',
          }),
        ];
      }
      if (s.status !== 'starting' && s.status !== 'recording' && s.status !== 'paused') return refuse(command, s);
      return [recordingEvent('RecordingStopRequested', command.data)];
    }
    case 'FinishCapture': {
      const s = existing(state, command);
      if (s.status === 'processing' || s.status === 'completed') return [];
      if (!CLAIMED.includes(s.status)) return refuse(command, s);
      const stopped = recordingEvent('RecordingStopped', {
        stopped_at: now,
        duration_seconds: command.data.duration_seconds ?? secondsBetween(s.started_at, now),
        ...(command.data.manifest ? { manifest: command.data.manifest } : {}),
      });
      if (s.source_type === 'rtp' && command.data.manifest === undefined) {
        // Nothing was captured, so there is nothing to compose: say so instead of waiting forever.
        return [
          stopped,
          recordingEvent('RecordingFailed', { code: 'no_media', message: 'no media was captured', failure_class: 'permanent', blame: 'customer' }),
        ];
      }
      const settled = settleAfterCapture({ ...s, duration_seconds: stopped.data.duration_seconds }, command.data.manifest ?? null);
      return [stopped, ...settled];
    }
    case 'CompleteRecording': {
      const s = existing(state, command);
      if (s.status === 'completed') return [];
      if (s.status !== 'processing') return refuse(command, s, 'a recording completes after its capture has stopped');
      return [recordingEvent('RecordingCompleted', command.data)];
    }
    case 'FailRecording': {
      const s = existing(state, command);
      if (s.status === 'failed') return [];
      if (!LIVE.includes(s.status)) return refuse(command, s);
      return [recordingEvent('RecordingFailed', command.data)];
    }
    case 'DeleteRecording': {
      const s = existing(state, command);
      if (s.status === 'deleted') return [];
      if (LIVE.includes(s.status) && s.status !== 'requested' && s.status !== 'scheduled') {
        return refuse(command, s, 'stop it first');
      }
      return [recordingEvent('RecordingDeleted', command.data)];
    }
    case 'RegisterTracks': {
      const s = existing(state, command);
      if (s.source_type !== 'rtp') return refuse(command, s, 'tracks are registered on rtp recordings');
      if (!CAPTURING.includes(s.status)) return refuse(command, s, 'the capture has ended');
      // Checked against earlier tracks of the same request too: one SSRC, one codec, once.
      const fresh: typeof command.data.tracks = [];
      for (const track of command.data.tracks) {
        const known = [...s.tracks, ...fresh].find((t) => (track.ssrc === null ? t.ssrc === null && t.payload_type === track.payload_type : t.ssrc === track.ssrc));
        if (known && (known.codec !== track.codec || known.payload_type !== track.payload_type)) {
          throw new TrackConflictError(track.ssrc, `as ${known.codec} with payload type ${known.payload_type}`, track.payload_type);
        }
        if (known === undefined) fresh.push(track);
      }
      return fresh.length === 0 ? [] : [recordingEvent('TracksRegistered', { tracks: fresh })];
    }
    case 'RecordRoomEvents': {
      const s = existing(state, command);
      if (s.source_type !== 'rtp') return refuse(command, s, 'room events are recorded on rtp recordings');
      if (!CAPTURING.includes(s.status) && s.status !== 'stopping') return refuse(command, s, 'the capture has ended');
      return [recordingEvent('RoomEventsRecorded', command.data)];
    }
    case 'RecordTrack': {
      const s = existing(state, command);
      if (s.recorded_ssrcs.includes(command.data.ssrc)) return [];
      if (!CLAIMED.includes(s.status)) return refuse(command, s);
      return [recordingEvent('TrackRecorded', command.data)];
    }
    case 'RecordCaptureGap': {
      const s = existing(state, command);
      if (command.data.segment_index !== null && s.gap_segments.includes(command.data.segment_index)) return [];
      if (!CLAIMED.includes(s.status)) return refuse(command, s);
      return [recordingEvent('CaptureGapRecorded', command.data)];
    }
    case 'InterruptRecording': {
      const s = existing(state, command);
      if (s.interrupted_by !== null) return [];
      if (!CLAIMED.includes(s.status)) return refuse(command, s);
      return [recordingEvent('RecordingInterrupted', command.data)];
    }
    case 'RecoverRecording': {
      const s = existing(state, command);
      if (s.interrupted_by === null && s.claimed_by === command.data.recorder_id) return []; // a retried recovery
      if (s.interrupted_by === null) return refuse(command, s, 'only an interrupted recording is recovered');
      return [recordingEvent('RecordingRecovered', command.data)];
    }
    case 'RequestComposition':
    case 'StartComposition':
    case 'ReportCompositionProgress':
    case 'CompleteComposition':
    case 'FailComposition':
      return decideComposition(command, existing(state, command));
    default: {
      const _never: never = command;
      throw new Error(`unknown command ${JSON.stringify(_never)}`);
    }
  }
}

export function evolve(state: RecordingState, event: RecordingEvent): RecordingState {
  if (event.type === 'RecordingRequested') {
    const d = event.data;
    return {
      status: 'requested',
      recording_id: d.recording_id,
      tenant_id: d.tenant_id,
      source_type: d.source.type,
      request_hash: d.request_hash,
      idempotency_key: d.idempotency_key,
      claimed_by: null,
      started_at: null,
      tracks: [],
      recorded_ssrcs: [],
      gap_segments: [],
      interrupted_by: null,
      manifest: null,
      duration_seconds: null,
      failure_code: null,
      recorder_artifacts: [],
      compositions: {},
    };
  }
  if (state.status === 'empty') return state; // a stream always starts with RecordingRequested
  switch (event.type) {
    case 'RecordingScheduled':
      return { ...state, status: 'scheduled' };
    case 'RecordingClaimed':
      return { ...state, status: 'starting', claimed_by: event.data.recorder_id };
    case 'RecordingStarted':
      return { ...state, status: 'recording', started_at: event.data.started_at };
    case 'RecordingPaused':
      return { ...state, status: 'paused' };
    case 'RecordingResumed':
      return { ...state, status: 'recording' };
    case 'RecordingStopRequested':
      return { ...state, status: 'stopping' };
    case 'RecordingStopped':
      return { ...state, status: 'processing', manifest: event.data.manifest ?? null, duration_seconds: event.data.duration_seconds };
    case 'RecordingCompleted':
      return { ...state, status: 'completed' };
    case 'RecordingFailed':
      return { ...state, status: 'failed', failure_code: event.data.code };
    case 'RecordingDeleted':
      return { ...state, status: 'deleted' };
    case 'TracksRegistered':
      return { ...state, tracks: [...state.tracks, ...event.data.tracks.map(({ ssrc, payload_type, codec }) => ({ ssrc, payload_type, codec }))] };
    case 'RoomEventsRecorded':
      return state;
    case 'TrackRecorded': {
      const t = event.data;
      return {
        ...state,
        recorded_ssrcs: [...state.recorded_ssrcs, t.ssrc],
        recorder_artifacts: [...state.recorder_artifacts, trackArtifact(t)],
      };
    }
    case 'CaptureGapRecorded':
      return { ...state, gap_segments: [...state.gap_segments, event.data.segment_index] };
    case 'RecordingInterrupted':
      return { ...state, interrupted_by: event.data.recorder_id };
    case 'RecordingRecovered':
      return { ...state, interrupted_by: null, claimed_by: event.data.recorder_id };
    case 'CompositionRequested':
    case 'CompositionStarted':
    case 'CompositionProgressed':
    case 'CompositionCompleted':
    case 'CompositionFailed':
      return { ...state, compositions: evolveCompositions(state.compositions, event) };
    default: {
      const _never: never = event;
      throw new Error(`unknown event ${JSON.stringify(_never)}`);
    }
  }
}

export const recordingDecider = { decide, evolve, initialState };
