/**
 * The recording as the API shows it, built only by folding events. The same fold serves
 * the read-model projection and the strongly consistent single-recording read.
 */
import type { StoredEvent } from '../eventstore/port.ts';
import { manifestArtifact, trackArtifact } from './artifacts.ts';
import { recordingCodec } from './codec.ts';
import type {
  Artifact,
  Failure,
  Ingest,
  Layout,
  Metadata,
  Output,
  RecordingStatus,
  Source,
  StorageSettings,
} from './model.ts';
import type { RecordedTrack, RegisteredTrack, TimelineEntry } from './tracks.ts';
import type { EventOf } from './events.ts';

export interface TrackView extends RegisteredTrack {
  /** What the recorder produced for this track, once finalized. */
  recording: Omit<RecordedTrack, 'track_id' | 'ssrc'> | null;
}

export interface CompositionView {
  id: string;
  status: 'requested' | 'running' | 'completed' | 'failed';
  initial: boolean;
  trigger: 'manifest' | 'api';
  layout: Layout;
  outputs: Output[];
  progress: number;
  attempts: number;
  compositor_id: string | null;
  requested_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_seconds: number | null;
  artifacts: Artifact[];
  failure: Failure | null;
}

export interface RecordingView {
  id: string;
  tenant_id: string;
  status: RecordingStatus;
  source: Source;
  recording_name: string | null;
  metadata: Metadata;
  storage_settings: StorageSettings;
  webhook_url: string | null;
  outputs: Output[];
  layout: Layout;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  stopped_at: string | null;
  duration_seconds: number | null;
  scheduled_for: string | null;
  ingest: Ingest | null;
  /** The recorder that claimed the recording (its lease holder). */
  recorder_id: string | null;
  tracks: TrackView[];
  timeline: TimelineEntry[];
  capture_gaps: EventOf<'CaptureGapRecorded'>['data'][];
  manifest: { key: string; bytes: number; sha256: string } | null;
  interruptions: { recorder_id: string; reason: string; at: string; recovered_at: string | null }[];
  artifacts: Artifact[];
  compositions: CompositionView[];
  failure: Failure | null;
  /** Version of the last event folded in: the per-recording sequence. */
  version: number;
}

/** Fold one stored event into the view. Returns the same view for an already-applied event. */
export function projectRecording(view: RecordingView | null, stored: StoredEvent): RecordingView | null {
  if (view !== null && stored.version <= view.version) return view;
  const event = recordingCodec.decode(stored);
  if (event.type === 'RecordingRequested') {
    const d = event.data;
    return {
      id: d.recording_id,
      tenant_id: d.tenant_id,
      status: 'requested',
      source: d.source,
      recording_name: d.recording_name,
      metadata: d.metadata,
      storage_settings: d.storage_settings,
      webhook_url: d.webhook_url,
      outputs: d.outputs,
      layout: d.layout,
      created_at: stored.occurred_at,
      updated_at: stored.occurred_at,
      started_at: null,
      stopped_at: null,
      duration_seconds: null,
      scheduled_for: null,
      ingest: null,
      recorder_id: null,
      tracks: [],
      timeline: [],
      capture_gaps: [],
      manifest: null,
      interruptions: [],
      artifacts: [],
      compositions: [],
      failure: null,
      version: stored.version,
    };
  }
  if (view === null) return null;
  const next: RecordingView = { ...view, updated_at: stored.occurred_at, version: stored.version };
  switch (event.type) {
    case 'RecordingScheduled':
      return { ...next, status: 'scheduled', scheduled_for: event.data.join_at };
    case 'RecordingClaimed':
      return { ...next, status: 'starting', ingest: event.data.ingest ?? null, recorder_id: event.data.recorder_id };
    case 'RecordingStarted':
      return { ...next, status: 'recording', started_at: event.data.started_at };
    case 'RecordingPaused':
      return { ...next, status: 'paused' };
    case 'RecordingResumed':
      return { ...next, status: 'recording' };
    case 'RecordingStopRequested':
      return { ...next, status: 'stopping' };
    case 'RecordingStopped':
      return {
        ...next,
        status: 'processing',
        stopped_at: event.data.stopped_at,
        duration_seconds: event.data.duration_seconds,
        manifest: event.data.manifest ?? null,
      };
    case 'RecordingCompleted':
      return { ...next, status: 'completed', artifacts: event.data.artifacts, duration_seconds: event.data.duration_seconds, failure: null };
    case 'RecordingFailed':
      return { ...next, status: 'failed', failure: event.data };
    case 'RecordingDeleted':
      return { ...next, status: 'deleted', artifacts: [], ingest: null };
    case 'TracksRegistered':
      return { ...next, tracks: [...next.tracks, ...event.data.tracks.map((t) => ({ ...t, recording: null }))] };
    case 'RoomEventsRecorded':
      return { ...next, timeline: [...next.timeline, ...event.data.events] };
    case 'TrackRecorded': {
      const { track_id, ssrc, ...recording } = event.data;
      return { ...next, tracks: next.tracks.map((t) => (t.track_id === track_id ? { ...t, ssrc, recording } : t)) };
    }
    case 'CaptureGapRecorded':
      return { ...next, capture_gaps: [...next.capture_gaps, event.data] };
    case 'RecordingInterrupted':
      return { ...next, interruptions: [...next.interruptions, { ...event.data, at: stored.occurred_at, recovered_at: null }] };
    case 'RecordingRecovered':
      return {
        ...next,
        recorder_id: event.data.recorder_id,
        interruptions: next.interruptions.map((i) => (i.recovered_at === null ? { ...i, recovered_at: stored.occurred_at } : i)),
      };
    case 'CompositionRequested': {
      const d = event.data;
      const previous = next.compositions.find((c) => c.id === d.composition_id);
      const requested: CompositionView = {
        id: d.composition_id,
        status: 'requested',
        initial: d.initial,
        trigger: d.trigger,
        layout: d.layout,
        outputs: d.outputs,
        progress: 0,
        attempts: previous?.attempts ?? 0,
        compositor_id: null,
        requested_at: stored.occurred_at,
        started_at: null,
        completed_at: null,
        duration_seconds: null,
        artifacts: [],
        failure: null,
      };
      return { ...next, compositions: [...next.compositions.filter((c) => c.id !== d.composition_id), requested] };
    }
    case 'CompositionStarted':
      return withComposition(next, event.data.composition_id, (c) => ({
        ...c,
        status: 'running',
        attempts: event.data.attempt,
        compositor_id: event.data.compositor_id,
        started_at: event.data.at,
        progress: 0,
        failure: null,
      }));
    case 'CompositionProgressed':
      return withComposition(next, event.data.composition_id, (c) => ({ ...c, progress: Math.max(c.progress, event.data.percent) }));
    case 'CompositionCompleted':
      return withComposition(next, event.data.composition_id, (c) => ({
        ...c,
        status: 'completed',
        progress: 100,
        completed_at: stored.occurred_at,
        duration_seconds: event.data.duration_seconds,
        artifacts: event.data.artifacts,
      }));
    case 'CompositionFailed': {
      const { composition_id, compositor_id: _by, ...failure } = event.data;
      return withComposition(next, composition_id, (c) => ({ ...c, status: 'failed', completed_at: stored.occurred_at, failure }));
    }
    default: {
      const _never: never = event;
      throw new Error(`unknown event ${JSON.stringify(_never)}`);
    }
  }
}

function withComposition(view: RecordingView, id: string, change: (c: CompositionView) => CompositionView): RecordingView {
  return { ...view, compositions: view.compositions.map((c) => (c.id === id ? change(c) : c)) };
}

/**
 * Every file a caller can download now: the manifest and the recorder's track files once
 * written, and each completed composition's files. Nothing once the recording is deleted.
 */
export function availableArtifacts(view: RecordingView): Artifact[] {
  if (view.status === 'deleted') return [];
  const manifest = view.manifest ? [manifestArtifact(view.manifest)] : [];
  const tracks = view.tracks.flatMap((t) => (t.recording === null ? [] : [trackArtifact(t.recording)]));
  const composed = view.compositions.filter((c) => c.status === 'completed').flatMap((c) => c.artifacts);
  const byName = new Map<string, Artifact>();
  for (const artifact of [...manifest, ...tracks, ...composed]) byName.set(artifact.name, artifact);
  return [...byName.values()];
}

export function foldRecording(events: readonly StoredEvent[]): RecordingView | null {
  return events.reduce<RecordingView | null>(projectRecording, null);
}
