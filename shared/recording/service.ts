/**
 * Recording application service: what the HTTP handlers call. It turns requests into
 * commands, runs them through the command handler, and reads views. Tenant isolation lives
 * here: another tenant's recording is indistinguishable from a missing one.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../json.ts';
import type { Clock, IdGenerator } from '../clock.ts';
import { commandHandler } from '../eventstore/command-handler.ts';
import type { EventStore, StoredEvent } from '../eventstore/port.ts';
import type { IdempotencyStore } from '../idempotency/port.ts';
import type { ListPage, ListQuery, RecordingReadModel } from '../readmodel/port.ts';
import { recordingCodec } from './codec.ts';
import type { RecordingCommand } from './commands.ts';
import { recordingDecider, type RecordingState } from './decider.ts';
import { CompositionNotFoundError, IdempotencyConflictError, RecordingNotFoundError } from './errors.ts';
import { DEFAULT_KEY_TEMPLATE, defaultOutputs, type Artifact } from './model.ts';
import { RECORDING_ID_PATTERN, type CreateRecordingRequest } from './requests.ts';
import { availableArtifacts, foldRecording, type CompositionView, type RecordingView } from './view.ts';
import { compositionId, specFromRequest, type CompositionRequest } from '../composition/model.ts';
import type { RegisteredTrack, RoomEventInput, TimelineEntry, TrackDescriptorSchema } from './tracks.ts';
import type { z } from 'zod';

type TrackDescriptor = z.output<typeof TrackDescriptorSchema>;

export interface RecordingServiceDeps {
  readonly store: EventStore;
  readonly readModel: RecordingReadModel;
  readonly idempotency: IdempotencyStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export interface CallContext {
  readonly tenantId: string;
  readonly requestId?: string;
}

type LifecycleCommand = Extract<RecordingCommand['type'], 'StopRecording' | 'PauseRecording' | 'ResumeRecording' | 'DeleteRecording'>;

export { canonicalJson } from '../json.ts';

const CREATION_EVENTS = new Set(['RecordingRequested', 'RecordingScheduled']);

/** The events a create appended: the leading run of creation events. */
function creationPrefix(events: readonly StoredEvent[]): StoredEvent[] {
  const end = events.findIndex((e) => !CREATION_EVENTS.has(e.type));
  return events.slice(0, end === -1 ? events.length : end);
}

export function recordingService(deps: RecordingServiceDeps) {
  const commands = commandHandler(recordingDecider, recordingCodec, deps);

  const ownedBy = (tenantId: string, recordingId: string) => (state: RecordingState) => {
    if (state.status === 'empty' || state.tenant_id !== tenantId) throw new RecordingNotFoundError(recordingId);
  };

  async function loadOwned(ctx: CallContext, recordingId: string): Promise<StoredEvent[]> {
    if (!RECORDING_ID_PATTERN.test(recordingId)) throw new RecordingNotFoundError(recordingId);
    const events = await deps.store.readStream(recordingId);
    if (events[0]?.tenant_id !== ctx.tenantId) throw new RecordingNotFoundError(recordingId);
    return events;
  }

  return {
    /** Create, or replay the original answer for a retry under the same Idempotency-Key. */
    async create(ctx: CallContext, request: CreateRecordingRequest, idempotencyKey?: string): Promise<{ view: RecordingView; replayed: boolean }> {
      const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
      let recordingId = deps.ids.next('rec');
      let fresh = true;
      if (idempotencyKey !== undefined) {
        const claim = await deps.idempotency.claim(`${ctx.tenantId}#${idempotencyKey}`, { request_hash: requestHash, recording_id: recordingId }, Date.parse(deps.clock.now()));
        if (!claim.claimed) {
          if (claim.existing.request_hash !== requestHash) throw new IdempotencyConflictError(idempotencyKey);
          recordingId = claim.existing.recording_id;
          fresh = false;
        }
      }
      const result = await commands.handle(
        recordingId,
        (now) => ({
          type: 'RequestRecording',
          metadata: { now },
          data: {
            recording_id: recordingId,
            tenant_id: ctx.tenantId,
            source: request.source,
            recording_name: request.recording_name ?? null,
            metadata: request.metadata ?? {},
            storage_settings: request.storage_settings ?? { key_template: DEFAULT_KEY_TEMPLATE },
            webhook_url: request.webhook_url ?? null,
            outputs: request.outputs ?? defaultOutputs(request.source.type),
            layout: request.layout ?? { preset: request.source.type === 'stream' ? 'audio_only' : 'grid' },
            request_hash: requestHash,
            idempotency_key: idempotencyKey ?? null,
          },
        }),
        { tenantId: ctx.tenantId, correlationId: ctx.requestId ?? null },
        (state) => {
          if (state.status !== 'empty' && state.tenant_id !== ctx.tenantId) throw new IdempotencyConflictError(idempotencyKey ?? null);
        },
        { expectNew: fresh },
      );
      // The answer to a create is the recording as the create left it, whatever happened since.
      return { view: foldRecording(creationPrefix(result.events)) as RecordingView, replayed: result.appended.length === 0 };
    },

    /** Strongly consistent: folds the event stream rather than reading the projection. */
    async get(ctx: CallContext, recordingId: string): Promise<RecordingView> {
      const view = foldRecording(await loadOwned(ctx, recordingId));
      if (view === null) throw new RecordingNotFoundError(recordingId);
      return view;
    },

    /** Eventually consistent: reads the read model built by the projection. */
    list(ctx: CallContext, query: ListQuery): Promise<ListPage> {
      return deps.readModel.list(ctx.tenantId, query);
    },

    async events(ctx: CallContext, recordingId: string, after: number, limit: number): Promise<{ items: StoredEvent[]; hasMore: boolean }> {
      const events = (await loadOwned(ctx, recordingId)).filter((e) => e.version > after);
      return { items: events.slice(0, limit), hasMore: events.length > limit };
    },

    async execute(ctx: CallContext, recordingId: string, type: LifecycleCommand, reason: string | null = null): Promise<RecordingView> {
      if (!RECORDING_ID_PATTERN.test(recordingId)) throw new RecordingNotFoundError(recordingId);
      const result = await commands.handle(
        recordingId,
        (now): RecordingCommand => {
          const metadata = { now };
          switch (type) {
            case 'StopRecording':
              return { type, metadata, data: { reason: 'api' } };
            case 'PauseRecording':
              return { type, metadata, data: { reason } };
            case 'ResumeRecording':
              return { type, metadata, data: {} };
            case 'DeleteRecording':
              return { type, metadata, data: { reason } };
          }
        },
        { tenantId: ctx.tenantId, correlationId: ctx.requestId ?? null },
        ownedBy(ctx.tenantId, recordingId),
      );
      return foldRecording(result.events) as RecordingView;
    },

    /** Register tracks (normalized descriptors); returns the tracks this call added. */
    async registerTracks(ctx: CallContext, recordingId: string, tracks: readonly TrackDescriptor[]): Promise<RegisteredTrack[]> {
      if (!RECORDING_ID_PATTERN.test(recordingId)) throw new RecordingNotFoundError(recordingId);
      const result = await commands.handle(
        recordingId,
        (now) => ({
          type: 'RegisterTracks',
          metadata: { now },
          data: {
            tracks: tracks.map((t) => ({
              track_id: deps.ids.next('trk'),
              ssrc: t.ssrc ?? null,
              payload_type: t.payload_type,
              codec: t.codec,
              clock_rate: t.clock_rate,
              channels: t.channels ?? null,
              kind: t.kind,
              peer_id: t.peer_id ?? null,
              display_name: t.display_name ?? null,
              track_type: t.track_type ?? null,
              registered_at: now,
            })),
          },
        }),
        { tenantId: ctx.tenantId, correlationId: ctx.requestId ?? null },
        ownedBy(ctx.tenantId, recordingId),
      );
      return result.appended.flatMap((e) => (e.type === 'TracksRegistered' ? (e.data['tracks'] as RegisteredTrack[]) : []));
    },

    async recordRoomEvents(ctx: CallContext, recordingId: string, events: readonly RoomEventInput[]): Promise<TimelineEntry[]> {
      if (!RECORDING_ID_PATTERN.test(recordingId)) throw new RecordingNotFoundError(recordingId);
      const result = await commands.handle(
        recordingId,
        (now) => ({ type: 'RecordRoomEvents', metadata: { now }, data: { events: events.map((e) => ({ ...e, at: e.at ?? now })) } }),
        { tenantId: ctx.tenantId, correlationId: ctx.requestId ?? null },
        ownedBy(ctx.tenantId, recordingId),
      );
      return result.appended.flatMap((e) => e.data['events'] as TimelineEntry[]);
    },

    /**
     * Ask for a composition of a finished recording. The id comes from the layout and
     * outputs, so asking twice names the same composition (`created: false`).
     */
    async requestComposition(ctx: CallContext, recordingId: string, request: CompositionRequest): Promise<{ composition: CompositionView; created: boolean }> {
      const recording = foldRecording(await loadOwned(ctx, recordingId));
      if (recording === null) throw new RecordingNotFoundError(recordingId);
      const spec = specFromRequest(request, recording.outputs);
      const id = compositionId(spec);
      const initial = id === compositionId({ layout: recording.layout, outputs: recording.outputs });
      const result = await commands.handle(
        recordingId,
        (now) => ({ type: 'RequestComposition', metadata: { now }, data: { composition_id: id, layout: spec.layout, outputs: spec.outputs, initial } }),
        { tenantId: ctx.tenantId, correlationId: ctx.requestId ?? null },
        ownedBy(ctx.tenantId, recordingId),
      );
      const composition = (foldRecording(result.events) as RecordingView).compositions.find((c) => c.id === id);
      if (composition === undefined) throw new CompositionNotFoundError(id);
      return { composition, created: result.appended.length > 0 };
    },

    async compositions(ctx: CallContext, recordingId: string): Promise<CompositionView[]> {
      return (await this.get(ctx, recordingId)).compositions;
    },

    async composition(ctx: CallContext, recordingId: string, id: string): Promise<CompositionView> {
      const composition = (await this.get(ctx, recordingId)).compositions.find((c) => c.id === id);
      if (composition === undefined) throw new CompositionNotFoundError(id);
      return composition;
    },

    async artifacts(ctx: CallContext, recordingId: string): Promise<Artifact[]> {
      return availableArtifacts(await this.get(ctx, recordingId));
    },

    /** Run any recording command on behalf of the system (recorder, compositor, providers). */
    async system(recordingId: string, tenantId: string, makeCommand: (now: string) => RecordingCommand, causationId?: string) {
      return commands.handle(recordingId, makeCommand, { tenantId, causationId: causationId ?? null }, ownedBy(tenantId, recordingId));
    },
  };
}

export type RecordingService = ReturnType<typeof recordingService>;
