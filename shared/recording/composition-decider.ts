/**
 * The composition part of the recording decider. Compositions live in the recording's
 * stream, so their events are ordered with the recording's and completion is one decision:
 * a recording completes when its capture has stopped AND its initial composition is final,
 * whichever of the two happens last.
 */
import type { Artifact, Failure } from './model.ts';
import { manifestArtifact } from './artifacts.ts';
import type { RecordingCommand } from './commands.ts';
import { CompositionBusyError, CompositionNotFoundError, InvalidTransitionError } from './errors.ts';
import { recordingEvent, type EventOf, type RecordingEvent } from './events.ts';
import type { RecordingStatus } from './model.ts';

export interface CompositionState {
  readonly status: 'requested' | 'running' | 'completed' | 'failed';
  readonly initial: boolean;
  readonly compositor_id: string | null;
  /** When the holder was last heard from (start or progress). */
  readonly heartbeat_at: string | null;
  readonly lease_seconds: number;
  readonly attempts: number;
  readonly artifacts: readonly Artifact[];
  readonly failure: Failure | null;
}

/** What the composition rules need to know about the recording. */
export interface CompositionHost {
  readonly status: RecordingStatus;
  readonly manifest: { key: string; bytes: number; sha256: string } | null;
  readonly duration_seconds: number | null;
  readonly failure_code: string | null;
  readonly recorder_artifacts: readonly Artifact[];
  readonly compositions: Readonly<Record<string, CompositionState>>;
}

type CompositionCommand = Extract<
  RecordingCommand,
  { type: 'RequestComposition' | 'StartComposition' | 'ReportCompositionProgress' | 'CompleteComposition' | 'FailComposition' }
>;

export const COMPOSITION_FAILED = 'composition_failed';

/** Statuses in which a manifest can exist while the recording waits for its initial composition. */
const CAPTURE_ENDING: readonly RecordingStatus[] = ['starting', 'recording', 'paused', 'stopping', 'processing'];

/** The recording's artifacts at completion: its manifest, the recorder's track files, the initial composition's files. */
export function completionArtifacts(
  host: CompositionHost,
  manifest: { key: string; bytes: number; sha256: string } | null,
  composed: readonly Artifact[],
): Artifact[] {
  return [...(manifest ? [manifestArtifact(manifest)] : []), ...host.recorder_artifacts, ...composed];
}

export function compositionFailureOfRecording(failure: Failure): Failure {
  return { ...failure, code: COMPOSITION_FAILED, message: `the recording's composition failed: ${failure.message}` };
}

/** Events that end the recording now that its capture stopped, if its initial composition is already final. */
export function settleAfterCapture(host: CompositionHost, manifest: { key: string; bytes: number; sha256: string } | null): RecordingEvent[] {
  const initial = Object.values(host.compositions).find((c) => c.initial);
  if (initial?.status === 'completed') {
    return [recordingEvent('RecordingCompleted', { artifacts: completionArtifacts(host, manifest, initial.artifacts), duration_seconds: host.duration_seconds ?? 0 })];
  }
  if (initial?.status === 'failed' && initial.failure) return [recordingEvent('RecordingFailed', compositionFailureOfRecording(initial.failure))];
  return [];
}

/** Once capture stopped: a recording waiting for its initial composition, or failed by one (which a retry may still complete). */
function awaitsInitialComposition(host: CompositionHost): boolean {
  return host.status === 'processing' || (host.status === 'failed' && host.failure_code === COMPOSITION_FAILED);
}

const leaseExpired = (c: CompositionState, now: string): boolean =>
  c.heartbeat_at === null || Date.parse(now) - Date.parse(c.heartbeat_at) > c.lease_seconds * 1000;

function held(host: CompositionHost, id: string, compositorId: string): CompositionState {
  const c = host.compositions[id];
  if (c === undefined) throw new CompositionNotFoundError(id);
  if (c.status === 'running' && c.compositor_id !== compositorId) throw new CompositionBusyError(id, c.compositor_id ?? 'another compositor');
  // Asked for again after its holder went silent: the old holder has lost it, whatever it does now.
  if (c.status === 'requested') throw new CompositionBusyError(id, 'the next compositor (it was requested again)');
  return c;
}

export function decideComposition(command: CompositionCommand, host: CompositionHost): RecordingEvent[] {
  const now = command.metadata.now;
  switch (command.type) {
    case 'RequestComposition': {
      const d = command.data;
      if (host.status === 'deleted') throw new InvalidTransitionError('compose', host.status);
      if (host.manifest === null) throw new InvalidTransitionError('compose', host.status, 'the recording has no manifest yet');
      const existing = host.compositions[d.composition_id];
      // Asking again retries a failed composition, and one whose compositor went silent (its
      // job died: the lease lapsed); otherwise it is the same request again.
      const stalled = existing?.status === 'running' && leaseExpired(existing, now);
      if (existing !== undefined && existing.status !== 'failed' && !stalled) return [];
      return [
        recordingEvent('CompositionRequested', {
          composition_id: d.composition_id,
          layout: d.layout,
          outputs: d.outputs,
          initial: existing?.initial ?? d.initial,
          trigger: 'api',
        }),
      ];
    }
    case 'StartComposition': {
      const d = command.data;
      const { composition_id: id, compositor_id, lease_seconds } = d;
      const existing = host.compositions[id];
      if (existing === undefined) {
        // Only the manifest trigger starts a composition nobody asked for: the recording's own.
        if (d.request === undefined) throw new CompositionNotFoundError(id);
        // The manifest is written last, when capture has ended, even if FinishCapture (or a
        // recovery) has not been recorded yet.
        if (!CAPTURE_ENDING.includes(host.status)) throw new InvalidTransitionError('compose', host.status);
        return [
          recordingEvent('CompositionRequested', { composition_id: id, ...d.request, initial: true, trigger: 'manifest' }),
          recordingEvent('CompositionStarted', { composition_id: id, compositor_id, attempt: 1, lease_seconds, at: now }),
        ];
      }
      if (host.status === 'deleted') throw new InvalidTransitionError('compose', host.status);
      if (existing.status === 'completed') return [];
      // A duplicate manifest trigger does not retry a failed composition; a request does.
      if (existing.status === 'failed' && d.request !== undefined) return [];
      if (existing.status === 'running') {
        if (existing.compositor_id === compositor_id) return [];
        if (!leaseExpired(existing, now)) throw new CompositionBusyError(id, existing.compositor_id ?? 'another compositor');
      }
      return [recordingEvent('CompositionStarted', { composition_id: id, compositor_id, attempt: existing.attempts + 1, lease_seconds, at: now })];
    }
    case 'ReportCompositionProgress': {
      const d = command.data;
      const c = held(host, d.composition_id, d.compositor_id);
      if (c.status !== 'running') return [];
      // Deleted meanwhile: the render is pointless, and its files would outlive the recording.
      if (host.status === 'deleted') throw new InvalidTransitionError('report progress on', host.status);
      return [recordingEvent('CompositionProgressed', { composition_id: d.composition_id, compositor_id: d.compositor_id, percent: d.percent, at: now })];
    }
    case 'CompleteComposition': {
      const d = command.data;
      const c = held(host, d.composition_id, d.compositor_id);
      if (c.status === 'completed') return [];
      if (c.status !== 'running') throw new InvalidTransitionError('complete the composition of', host.status, `the composition is ${c.status}`);
      if (host.status === 'deleted') throw new InvalidTransitionError('complete the composition of', host.status);
      const events: RecordingEvent[] = [recordingEvent('CompositionCompleted', d)];
      if (c.initial && awaitsInitialComposition(host)) {
        events.push(
          recordingEvent('RecordingCompleted', {
            artifacts: completionArtifacts(host, host.manifest, d.artifacts),
            duration_seconds: host.duration_seconds ?? d.duration_seconds,
          }),
        );
      }
      return events;
    }
    case 'FailComposition': {
      const d = command.data;
      const c = held(host, d.composition_id, d.compositor_id);
      if (c.status === 'failed' || c.status === 'completed') return [];
      const { composition_id: _id, compositor_id: _by, ...failure } = d;
      const events: RecordingEvent[] = [recordingEvent('CompositionFailed', d)];
      if (c.initial && host.status === 'processing') events.push(recordingEvent('RecordingFailed', compositionFailureOfRecording(failure)));
      return events;
    }
  }
}

type CompositionEvent = EventOf<'CompositionRequested' | 'CompositionStarted' | 'CompositionProgressed' | 'CompositionCompleted' | 'CompositionFailed'>;

export function evolveCompositions(
  compositions: Readonly<Record<string, CompositionState>>,
  event: CompositionEvent,
): Readonly<Record<string, CompositionState>> {
  const id = event.data.composition_id;
  const current = compositions[id];
  const next = (patch: Partial<CompositionState>): Readonly<Record<string, CompositionState>> =>
    current === undefined ? compositions : { ...compositions, [id]: { ...current, ...patch } };
  switch (event.type) {
    case 'CompositionRequested':
      return {
        ...compositions,
        [id]: {
          status: 'requested',
          initial: event.data.initial,
          compositor_id: null,
          heartbeat_at: null,
          lease_seconds: current?.lease_seconds ?? 0,
          attempts: current?.attempts ?? 0,
          artifacts: [],
          failure: null,
        },
      };
    case 'CompositionStarted':
      return next({
        status: 'running',
        compositor_id: event.data.compositor_id,
        heartbeat_at: event.data.at,
        lease_seconds: event.data.lease_seconds,
        attempts: event.data.attempt,
        failure: null,
      });
    case 'CompositionProgressed':
      return next({ heartbeat_at: event.data.at });
    case 'CompositionCompleted':
      return next({ status: 'completed', artifacts: event.data.artifacts });
    case 'CompositionFailed': {
      const { composition_id: _id, compositor_id: _by, ...failure } = event.data;
      return next({ status: 'failed', failure });
    }
  }
}
