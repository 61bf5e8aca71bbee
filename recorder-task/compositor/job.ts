/**
 * One compositor job: take the composition (its lease), read the manifest, plan, render,
 * upload, and record the outcome in the recording's stream. Every path ends in an event:
 * completed with artifacts, failed with blame, or skipped because another job holds or
 * finished the same composition (a duplicate trigger renders nothing).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { downloadToFile, readObject, uploadFile } from '../../shared/aws/s3-files.ts';
import { compositionArtifactName, compositionId, compositionObjectName, composedOutputs, type CompositionSpec } from '../../shared/composition/model.ts';
import type { EventStore } from '../../shared/eventstore/port.ts';
import type { Logger } from '../../shared/logger.ts';
import { objectKey } from '../../shared/media/keys.ts';
import { CompositionBusyError, InvalidTransitionError } from '../../shared/recording/errors.ts';
import { ManifestSchema, type Manifest } from '../../shared/recording/manifest.ts';
import { RECORDING_DELETED, type Artifact, type Failure } from '../../shared/recording/model.ts';
import type { RecordingService } from '../../shared/recording/service.ts';
import { foldRecording, type CompositionView, type RecordingView } from '../../shared/recording/view.ts';
import type { CompositorTrigger } from './config.ts';
import { planComposition } from './layout/planner.ts';
import type { CompositionPlan } from './plan/types.ts';
import { renderComposition } from './ffmpeg/render.ts';
import type { RenderedFile, RenderRequest } from './render/types.ts';
import { httpStatus } from '../segments/s3-put.ts';

export interface CompositionJobDeps {
  readonly store: EventStore;
  readonly service: RecordingService;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly logger: Logger;
  readonly compositorId: string;
  readonly leaseSeconds: number;
  readonly parallelism?: number;
  readonly preset?: string;
  /** Parent of the job's scratch directory (default: the OS temp dir). */
  readonly workRoot?: string;
  /** The renderer; swappable so a test can make it fail. */
  readonly render?: (request: RenderRequest) => Promise<RenderedFile[]>;
}

export type JobOutcome =
  | { readonly status: 'completed'; readonly recording_id: string; readonly composition_id: string; readonly artifacts: readonly Artifact[] }
  | { readonly status: 'failed'; readonly recording_id: string | null; readonly composition_id: string | null; readonly failure: Failure }
  | { readonly status: 'skipped'; readonly recording_id: string; readonly composition_id: string; readonly reason: string };

const ARTIFACT_KIND: Record<RenderedFile['kind'], string> = {
  composite: 'composite',
  audio: 'audio',
  track: 'normalized_track',
  thumbnail: 'thumbnail',
};

/** Progress goes into the event log at every 10 % step (ffmpeg reports far more often). */
export const PROGRESS_STEP_PERCENT = 10;

class CompositionError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'CompositionError';
  }
}

/** The recording was deleted while this job ran: its progress or completion was refused. */
const deletedMeanwhile = (error: unknown): boolean => error instanceof InvalidTransitionError && error.status === 'deleted';

function classify(error: unknown): Failure {
  if (error instanceof CompositionError) return error.failure;
  if (deletedMeanwhile(error)) {
    // Recorded as the composition's failure; media cleanup takes what was uploaded (route media-cleanup).
    return { code: RECORDING_DELETED, message: 'the recording was deleted while it was being composed', failure_class: 'permanent', blame: 'customer' };
  }
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatus(error);
  const network = typeof error === 'object' && error !== null && /ECONN|ETIMEDOUT|EPIPE|socket hang up/i.test(`${(error as { code?: string }).code ?? ''} ${message}`);
  if (network || (status !== undefined && status >= 500)) {
    return { code: 'storage_unavailable', message, failure_class: 'temporary', blame: 'capstan' };
  }
  if (status === 403 || status === 404) return { code: 'storage_refused', message, failure_class: 'permanent', blame: 'customer' };
  return { code: 'render_failed', message: message.slice(0, 2000), failure_class: 'permanent', blame: 'capstan' };
}

interface Target {
  readonly view: RecordingView;
  readonly spec: CompositionSpec;
  readonly composition_id: string;
  /** The manifest trigger brings the manifest with it. */
  readonly manifest: Manifest | null;
  readonly manifestKey: string;
  readonly request: boolean;
}

async function resolve(deps: CompositionJobDeps, trigger: CompositorTrigger): Promise<Target> {
  if (trigger.kind === 'manifest') {
    const parsed = ManifestSchema.safeParse(JSON.parse((await readObject(deps.s3, trigger.bucket, trigger.key)).toString('utf8')));
    if (!parsed.success) throw new CompositionError({ code: 'manifest_invalid', message: `${trigger.key}: ${parsed.error.message}`, failure_class: 'permanent', blame: 'capstan' });
    const manifest = parsed.data;
    const view = foldRecording(await deps.store.readStream(manifest.recording_id));
    if (view === null) throw new CompositionError({ code: 'recording_missing', message: `no recording ${manifest.recording_id}`, failure_class: 'permanent', blame: 'capstan' });
    const spec = { layout: view.layout, outputs: composedOutputs(view.outputs) };
    return { view, spec, composition_id: compositionId(spec), manifest, manifestKey: trigger.key, request: true };
  }
  const view = foldRecording(await deps.store.readStream(trigger.recording_id));
  if (view === null) throw new CompositionError({ code: 'recording_missing', message: `no recording ${trigger.recording_id}`, failure_class: 'permanent', blame: 'capstan' });
  const composition = view.compositions.find((c) => c.id === trigger.composition_id);
  if (composition === undefined || view.manifest === null) {
    throw new CompositionError({ code: 'composition_missing', message: `no composition ${trigger.composition_id} with a manifest`, failure_class: 'permanent', blame: 'capstan' });
  }
  return { view, spec: { layout: composition.layout, outputs: composition.outputs }, composition_id: composition.id, manifest: null, manifestKey: view.manifest.key, request: false };
}

export async function runCompositionJob(deps: CompositionJobDeps, trigger: CompositorTrigger): Promise<JobOutcome> {
  const log = deps.logger.child({ compositorId: deps.compositorId, trigger: trigger.kind });
  let target: Target;
  try {
    target = await resolve(deps, trigger);
  } catch (error) {
    // Without a recording there is no stream to record a failure in: say it loudly and stop.
    const failure = classify(error);
    log.error('compositor job cannot start', { code: failure.code, error: failure.message });
    return { status: 'failed', recording_id: null, composition_id: null, failure };
  }
  const { view, composition_id } = target;
  const recordingLog = log.child({ recordingId: view.id, compositionId: composition_id });
  const system = (make: Parameters<RecordingService['system']>[2]) => deps.service.system(view.id, view.tenant_id, make);

  // Take the composition. Another live holder, or a finished composition, means this trigger is a duplicate.
  let mine: CompositionView | undefined;
  try {
    const started = await system((now) => ({
      type: 'StartComposition',
      metadata: { now },
      data: {
        composition_id,
        compositor_id: deps.compositorId,
        lease_seconds: deps.leaseSeconds,
        ...(target.request ? { request: target.spec } : {}),
      },
    }));
    mine = foldRecording(started.events)?.compositions.find((c) => c.id === composition_id);
  } catch (error) {
    if (error instanceof CompositionBusyError) {
      recordingLog.info('composition held by another compositor: duplicate trigger skipped', { holder: error.holder });
      return { status: 'skipped', recording_id: view.id, composition_id, reason: error.message };
    }
    const failure = classify(error);
    recordingLog.error('compositor could not take the composition', { code: failure.code, error: failure.message });
    return { status: 'failed', recording_id: view.id, composition_id, failure };
  }
  if (mine === undefined || mine.status !== 'running' || mine.compositor_id !== deps.compositorId) {
    const reason = `composition is ${mine?.status ?? 'unknown'}${mine?.compositor_id ? ` (${mine.compositor_id})` : ''}`;
    recordingLog.info('nothing to do', { reason });
    return { status: 'skipped', recording_id: view.id, composition_id, reason };
  }

  const work = await mkdtemp(join(deps.workRoot ?? tmpdir(), 'capstan-compositor-'));
  const abort = new AbortController();
  try {
    const artifacts = await compose(deps, target, mine, work, abort, recordingLog, system);
    const durationSeconds = artifacts.find((a) => a.kind === 'composite')?.duration_seconds ?? artifacts.find((a) => a.kind === 'audio')?.duration_seconds ?? 0;
    await system((now) => ({
      type: 'CompleteComposition',
      metadata: { now },
      data: { composition_id, compositor_id: deps.compositorId, artifacts, duration_seconds: durationSeconds },
    }));
    recordingLog.info('composition completed', { artifacts: artifacts.length, durationSeconds });
    return { status: 'completed', recording_id: view.id, composition_id, artifacts };
  } catch (error) {
    if (error instanceof CompositionBusyError) {
      recordingLog.warn('lost the composition to another compositor; stopped', { holder: error.holder });
      return { status: 'skipped', recording_id: view.id, composition_id, reason: error.message };
    }
    const failure = classify(error);
    recordingLog.error('composition failed', { code: failure.code, failureClass: failure.failure_class, blame: failure.blame, error: failure.message });
    try {
      await system((now) => ({ type: 'FailComposition', metadata: { now }, data: { ...failure, composition_id, compositor_id: deps.compositorId } }));
    } catch (recordError) {
      recordingLog.error('could not record the failure', { error: recordError instanceof Error ? recordError.message : String(recordError) });
    }
    return { status: 'failed', recording_id: view.id, composition_id, failure };
  } finally {
    abort.abort();
    await rm(work, { recursive: true, force: true });
  }
}

async function compose(
  deps: CompositionJobDeps,
  target: Target,
  composition: CompositionView,
  work: string,
  abort: AbortController,
  log: Logger,
  system: (make: Parameters<RecordingService['system']>[2]) => Promise<unknown>,
): Promise<Artifact[]> {
  const { view, composition_id } = target;
  const manifest =
    target.manifest ?? ManifestSchema.parse(JSON.parse((await readObject(deps.s3, deps.bucket, target.manifestKey)).toString('utf8')));
  const plan: CompositionPlan = planComposition(manifest, target.spec.layout);
  if (plan.sources.length === 0 || plan.duration_ms <= 0) {
    throw new CompositionError({ code: 'no_media', message: 'the manifest has no track with media to compose', failure_class: 'permanent', blame: 'customer' });
  }
  log.info('plan ready', { sources: plan.sources.length, segments: plan.segments.length, durationMs: plan.duration_ms, cuts: plan.cuts.length });

  const sourceDir = join(work, 'sources');
  await mkdir(sourceDir);
  const files = new Map<string, string>();
  await Promise.all(
    plan.sources.map(async (source) => {
      const track = manifest.tracks.find((t) => t.track_id === source.track_id);
      if (track === undefined) throw new CompositionError({ code: 'manifest_invalid', message: `plan source ${source.track_id} is not in the manifest`, failure_class: 'permanent', blame: 'capstan' });
      const path = join(sourceDir, track.file_name);
      await downloadToFile(deps.s3, deps.bucket, track.key, path, abort.signal);
      files.set(source.track_id, path);
    }),
  );

  // Progress events, in order, one per 10 % step; losing the lease stops the render.
  let reported = 0;
  let reporting: Promise<unknown> = Promise.resolve();
  let lost: unknown = null;
  const onProgress = (fraction: number) => {
    const step = Math.floor((Math.min(1, fraction) * 100) / PROGRESS_STEP_PERCENT) * PROGRESS_STEP_PERCENT;
    if (step <= reported || step >= 100) return;
    reported = step;
    reporting = reporting.then(() =>
      system((now) => ({ type: 'ReportCompositionProgress', metadata: { now }, data: { composition_id, compositor_id: composition.compositor_id ?? '', percent: step } })).catch((error: unknown) => {
        if (error instanceof CompositionBusyError || deletedMeanwhile(error)) {
          lost = error;
          abort.abort();
        } else log.warn('progress not recorded', { error: error instanceof Error ? error.message : String(error) });
      }),
    );
  };

  const render = deps.render ?? renderComposition;
  const outDir = join(work, 'out');
  await mkdir(outDir);
  let rendered: RenderedFile[];
  try {
    rendered = await render({
      plan,
      files,
      outputs: target.spec.outputs,
      workDir: outDir,
      ...(deps.parallelism ? { parallelism: deps.parallelism } : {}),
      ...(deps.preset ? { preset: deps.preset } : {}),
      onProgress,
      signal: abort.signal,
    });
  } catch (error) {
    // An abort because the lease was lost or the recording deleted reports that cause, not the abort.
    await reporting;
    throw lost ?? error;
  }
  await reporting;
  if (lost !== null) throw lost;

  const parts = { tenant_id: view.tenant_id, recording_id: view.id, date: view.created_at.slice(0, 10) };
  const artifacts: Artifact[] = [];
  for (const file of rendered) {
    const key = objectKey(view.storage_settings.key_template, parts, compositionObjectName(composition_id, composition.initial, file.name));
    const { bytes, sha256 } = await uploadFile(deps.s3, deps.bucket, key, file.path, file.content_type, abort.signal);
    artifacts.push({
      name: compositionArtifactName(composition_id, composition.initial, file.name),
      kind: ARTIFACT_KIND[file.kind],
      key,
      content_type: file.content_type,
      bytes,
      sha256,
      ...(file.duration_seconds !== null ? { duration_seconds: file.duration_seconds } : {}),
      codecs: [...file.codecs],
      ...(file.width !== null && file.height !== null ? { resolution: `${file.width}x${file.height}` } : {}),
      composition_id,
    });
  }
  return artifacts;
}
