import { describe, expect, it } from 'vitest';
import type { RecordingCommand } from './commands.ts';
import { decide, evolve, initialState, type ExistingRecording, type RecordingState } from './decider.ts';
import { CompositionBusyError, CompositionNotFoundError, InvalidTransitionError } from './errors.ts';
import { recordingEvent, type RecordingEvent } from './events.ts';
import { DEFAULT_KEY_TEMPLATE, type Artifact } from './model.ts';

const T0 = '2026-03-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const MANIFEST = { key: 'tenant-a/rec_1/manifest.json', bytes: 812, sha256: 'ef'.repeat(32) };
const SPEC = { layout: { preset: 'grid' as const }, outputs: ['composite.mp4' as const] };
const CMP = 'cmp_0000000000000000000000aa';
const OTHER = 'cmp_0000000000000000000000bb';
const composite: Artifact = { name: 'composite.mp4', kind: 'composite', key: 'tenant-a/rec_1/composite.mp4', content_type: 'video/mp4', bytes: 10, duration_seconds: 9.9, sha256: 'cd'.repeat(32) };
const failure = { code: 'ffmpeg_failed', message: 'exit 1', failure_class: 'permanent' as const, blame: 'capstan' as const };

const base: RecordingEvent[] = [
  recordingEvent('RecordingRequested', {
    recording_id: 'rec_1',
    tenant_id: 'tenant-a',
    source: { type: 'rtp' },
    recording_name: null,
    metadata: {},
    storage_settings: { key_template: DEFAULT_KEY_TEMPLATE },
    webhook_url: null,
    outputs: ['composite.mp4'],
    layout: { preset: 'grid' },
    request_hash: 'h',
    idempotency_key: null,
  }),
  recordingEvent('RecordingClaimed', { recorder_id: 'recorder-1' }),
  recordingEvent('RecordingStarted', { started_at: T0 }),
  recordingEvent('TrackRecorded', {
    track_id: 'trk_1',
    ssrc: 1,
    key: 'tenant-a/rec_1/tracks/trk_1.ogg',
    file_name: 'trk_1.ogg',
    content_type: 'audio/ogg',
    container: 'ogg',
    bytes: 5,
    sha256: 'aa'.repeat(32),
    duration_seconds: 10,
    first_packet_at: T0,
    stats: { packets: 500, lost: 0, duplicates: 0, reordered: 0, gaps: 0 },
  }),
  recordingEvent('RecordingStopRequested', { reason: 'api' }),
];
const stopped = recordingEvent('RecordingStopped', { stopped_at: at(10), duration_seconds: 10, manifest: MANIFEST });

const fold = (events: RecordingEvent[]): RecordingState => events.reduce(evolve, initialState());
const run = (events: RecordingEvent[], command: RecordingCommand) => decide(command, fold(events));

const start = (now: number, data: Partial<Extract<RecordingCommand, { type: 'StartComposition' }>['data']> = {}): RecordingCommand => ({
  type: 'StartComposition',
  metadata: { now: at(now) },
  data: { composition_id: CMP, compositor_id: 'c-1', lease_seconds: 60, request: SPEC, ...data },
});
const complete = (by = 'c-1', id = CMP): RecordingCommand => ({
  type: 'CompleteComposition',
  metadata: { now: at(30) },
  data: { composition_id: id, compositor_id: by, artifacts: [composite], duration_seconds: 9.9 },
});
const fail = (by = 'c-1'): RecordingCommand => ({ type: 'FailComposition', metadata: { now: at(30) }, data: { composition_id: CMP, compositor_id: by, ...failure } });
const progress = (percent: number, by = 'c-1', now = 20): RecordingCommand => ({
  type: 'ReportCompositionProgress',
  metadata: { now: at(now) },
  data: { composition_id: CMP, compositor_id: by, percent },
});
const request = (id = OTHER): RecordingCommand => ({ type: 'RequestComposition', metadata: { now: at(40) }, data: { composition_id: id, ...SPEC, initial: false } });

/** Apply commands one after another, collecting every event. */
function chain(events: RecordingEvent[], ...commands: RecordingCommand[]): RecordingEvent[] {
  const all = [...events];
  for (const command of commands) all.push(...decide(command, fold(all)));
  return all;
}

describe('the initial composition', () => {
  it('is requested and started by the manifest trigger while the capture is still stopping', () => {
    expect(run(base, start(11)).map((e) => e.type)).toEqual(['CompositionRequested', 'CompositionStarted']);
  });

  it('completes the recording when it finishes after the capture stopped, with the manifest, track and composed artifacts', () => {
    const events = chain([...base, stopped], start(11), progress(50));
    const out = run(events, complete());
    expect(out.map((e) => e.type)).toEqual(['CompositionCompleted', 'RecordingCompleted']);
    const completed = out[1] as Extract<RecordingEvent, { type: 'RecordingCompleted' }>;
    expect(completed.data.duration_seconds).toBe(10);
    expect(completed.data.artifacts.map((a) => [a.name, a.kind])).toEqual([
      ['manifest.json', 'manifest'],
      ['trk_1.ogg', 'track'],
      ['composite.mp4', 'composite'],
    ]);
  });

  it('completes the recording at FinishCapture when the composition finished first (everything final, in either order)', () => {
    const events = chain(base, start(9), complete());
    expect(fold(events).status).toBe('stopping');
    const out = run(events, { type: 'FinishCapture', metadata: { now: at(31) }, data: { manifest: MANIFEST } });
    expect(out.map((e) => e.type)).toEqual(['RecordingStopped', 'RecordingCompleted']);
  });

  it('fails the recording with blame when it fails, and a retried request can still complete it', () => {
    const failed = chain([...base, stopped], start(11), fail());
    expect(failed.slice(-2).map((e) => e.type)).toEqual(['CompositionFailed', 'RecordingFailed']);
    expect((failed.at(-1) as Extract<RecordingEvent, { type: 'RecordingFailed' }>).data).toMatchObject({ code: 'composition_failed', blame: 'capstan', failure_class: 'permanent' });
    // A duplicate manifest trigger does not retry it; an explicit request does.
    expect(run(failed, start(40))).toEqual([]);
    const retried = chain(failed, { type: 'RequestComposition', metadata: { now: at(41) }, data: { composition_id: CMP, ...SPEC, initial: false } }, start(42, { request: undefined, compositor_id: 'c-2' }));
    expect((retried.at(-2) as Extract<RecordingEvent, { type: 'CompositionRequested' }>).data.initial).toBe(true);
    expect((retried.at(-1) as Extract<RecordingEvent, { type: 'CompositionStarted' }>).data.attempt).toBe(2);
    expect(run(retried, complete('c-2')).map((e) => e.type)).toEqual(['CompositionCompleted', 'RecordingCompleted']);
  });

  it('starts from a manifest written by a recovering recorder before its stop is recorded, but never on a request without capture', () => {
    expect(run(base.slice(0, 3), start(5)).map((e) => e.type)).toEqual(['CompositionRequested', 'CompositionStarted']);
    expect(() => run(base.slice(0, 1), start(5))).toThrow(InvalidTransitionError);
  });
});

describe('one job per recording and layout', () => {
  const running = chain([...base, stopped], start(11));

  it('a duplicate trigger within the lease is refused; the holder retrying is a no-op', () => {
    expect(() => run(running, start(12, { compositor_id: 'c-2' }))).toThrow(CompositionBusyError);
    expect(run(running, start(12))).toEqual([]);
  });

  it('progress keeps the lease alive; silence past it lets another compositor take over', () => {
    const alive = chain(running, progress(40, 'c-1', 60));
    expect(() => run(alive, start(100, { compositor_id: 'c-2' }))).toThrow(CompositionBusyError);
    const taken = run(alive, start(121, { compositor_id: 'c-2' }));
    expect(taken).toEqual([recordingEvent('CompositionStarted', { composition_id: CMP, compositor_id: 'c-2', attempt: 2, lease_seconds: 60, at: at(121) })]);
    // The old holder is told so, and cannot complete it any more.
    const after = [...alive, ...taken];
    expect(() => run(after, progress(50, 'c-1', 122))).toThrow(CompositionBusyError);
    expect(() => run(after, complete('c-1'))).toThrow(CompositionBusyError);
  });

  it('asking again for a composition whose compositor went silent requests it anew; the silent one has lost it', () => {
    const again = (now: number): RecordingCommand => ({ type: 'RequestComposition', metadata: { now: at(now) }, data: { composition_id: CMP, ...SPEC, initial: true } });
    // Within the lease it is the same request again.
    expect(run(running, again(60))).toEqual([]);
    // Past it (its job died), the request starts over: a new job will take it.
    const requested = run(running, again(80));
    expect(requested).toEqual([recordingEvent('CompositionRequested', { composition_id: CMP, ...SPEC, initial: true, trigger: 'api' })]);
    const after = [...running, ...requested];
    expect((fold(after) as ExistingRecording).compositions[CMP]).toMatchObject({ status: 'requested', compositor_id: null, attempts: 1 });
    // A zombie holder can neither report, complete nor fail it any more.
    expect(() => run(after, progress(50, 'c-1', 81))).toThrow(CompositionBusyError);
    expect(() => run(after, complete('c-1'))).toThrow(CompositionBusyError);
    expect(() => run(after, fail('c-1'))).toThrow(CompositionBusyError);
    // The next job starts it as attempt 2, and completing it completes the recording.
    const done = chain(after, start(90, { compositor_id: 'c-3', request: undefined }), complete('c-3'));
    expect(done.slice(after.length).map((e) => e.type)).toEqual(['CompositionStarted', 'CompositionCompleted', 'RecordingCompleted']);
    expect((fold(done) as ExistingRecording).compositions[CMP]).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('a finished composition is never rendered twice', () => {
    const done = chain(running, complete());
    expect(run(done, start(50, { compositor_id: 'c-9' }))).toEqual([]);
    expect(run(done, request(CMP))).toEqual([]);
    expect(run(done, complete())).toEqual([]);
  });
});

describe('re-composition', () => {
  const completed = chain([...base, stopped], start(11), complete());

  it('is requested on a finished recording and does not touch its status', () => {
    const events = chain(completed, request(), start(50, { composition_id: OTHER, request: undefined, compositor_id: 'c-5' }), complete('c-5', OTHER));
    const state = fold(events) as ExistingRecording;
    expect(state.status).toBe('completed');
    expect(events.filter((e) => e.type === 'RecordingCompleted')).toHaveLength(1);
    expect(state.compositions[OTHER]).toMatchObject({ status: 'completed', initial: false, attempts: 1 });
  });

  it('asking again for a composition in progress is a no-op', () => {
    expect(run(chain(completed, request()), request())).toEqual([]);
  });

  it('needs a manifest, and is refused once deleted', () => {
    expect(() => run(base, request())).toThrow('the recording has no manifest yet');
    const deleted = [...completed, recordingEvent('RecordingDeleted', { reason: null })];
    expect(() => run(deleted, request())).toThrow(InvalidTransitionError);
  });

  it('running when the recording is deleted: progress and completion are refused, the failure is recorded', () => {
    const rendering = chain(completed, request(), start(50, { composition_id: OTHER, request: undefined, compositor_id: 'c-5' }));
    const deleted = [...rendering, recordingEvent('RecordingDeleted', { reason: null })];
    const on = <C extends RecordingCommand>(command: C): C => ({ ...command, data: { ...command.data, composition_id: OTHER, compositor_id: 'c-5' } });
    expect(() => run(deleted, on(progress(30, 'c-5', 55)))).toThrow('cannot report progress on a recording that is deleted');
    expect(() => run(deleted, on(complete('c-5', OTHER)))).toThrow('cannot complete the composition of a recording that is deleted');
    const gone = { ...failure, code: 'recording_deleted', blame: 'customer' as const };
    const failed = run(deleted, { type: 'FailComposition', metadata: { now: at(60) }, data: { composition_id: OTHER, compositor_id: 'c-5', ...gone } });
    expect(failed).toEqual([recordingEvent('CompositionFailed', { composition_id: OTHER, compositor_id: 'c-5', ...gone })]);
  });

  it('an unknown composition cannot be started without a request', () => {
    expect(() => run(completed, start(60, { composition_id: OTHER, request: undefined }))).toThrow(CompositionNotFoundError);
  });
});
