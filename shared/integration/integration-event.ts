/**
 * Integration events: the public, stable shape consumers receive on EventBridge and by
 * webhook. Internal domain events (claims, stop requests) have no integration event.
 */
import { z } from 'zod';
import type { StoredEvent } from '../eventstore/port.ts';
import { recordingCodec } from '../recording/codec.ts';
import type { RecordingView } from '../recording/view.ts';
import { INTEGRATION_EVENT_TYPES, type IntegrationEventType } from './event-types.ts';

export const IntegrationEventSchema = z.object({
  id: z.string(),
  type: z.enum(INTEGRATION_EVENT_TYPES),
  recording_id: z.string(),
  tenant_id: z.string(),
  /** Per-recording sequence (the event's version): order and deduplicate by it. */
  sequence: z.number().int().positive(),
  occurred_at: z.string(),
  source_type: z.enum(['rtp', 'bot', 'stream']),
  metadata: z.record(z.string(), z.unknown()),
  data: z.record(z.string(), z.unknown()),
});
export type IntegrationEvent = z.infer<typeof IntegrationEventSchema>;

/**
 * `file_url` of an artifact: the API's stable download link (`GET …/artifacts/{name}`
 * answers 302 to a fresh presigned URL), so a payload read from the feed days later still
 * works. Absolute when the public URL is known (CAPSTAN_PUBLIC_URL), else a path.
 */
export function artifactFileUrl(baseUrl: string | undefined, recordingId: string, name: string): string {
  return `${(baseUrl ?? '').replace(/\/+$/, '')}/v1/recordings/${encodeURIComponent(recordingId)}/artifacts/${encodeURIComponent(name)}`;
}

/** Map a stored domain event (and the view after it) to its integration event, if it has one. */
export function toIntegrationEvent(stored: StoredEvent, view: RecordingView, links: { baseUrl?: string | undefined } = {}): IntegrationEvent | null {
  const event = recordingCodec.decode(stored);
  const base = {
    id: stored.event_id,
    recording_id: stored.stream_id,
    tenant_id: stored.tenant_id,
    sequence: stored.version,
    occurred_at: stored.occurred_at,
    source_type: view.source.type,
    metadata: view.metadata,
  };
  const of = (type: IntegrationEventType, data: Record<string, unknown>): IntegrationEvent => ({ ...base, type, data });
  switch (event.type) {
    case 'RecordingRequested':
      return of('recording.requested', {
        source: event.data.source,
        recording_name: event.data.recording_name,
        outputs: event.data.outputs,
        layout: event.data.layout,
        storage_settings: event.data.storage_settings,
        webhook_url: event.data.webhook_url,
      });
    case 'RecordingStarted':
      return of('recording.started', { started_at: event.data.started_at, ingest: view.ingest });
    case 'RecordingPaused':
      return of('recording.paused', { reason: event.data.reason });
    case 'RecordingResumed':
      return of('recording.resumed', {});
    case 'RecordingStopped':
      return of('recording.stopped', event.data);
    case 'RecordingCompleted':
      return of('recording.completed', {
        duration_seconds: event.data.duration_seconds,
        artifacts: event.data.artifacts.map(({ key: _key, ...artifact }) => ({ ...artifact, file_url: artifactFileUrl(links.baseUrl, stored.stream_id, artifact.name) })),
      });
    case 'RecordingFailed':
      return of('recording.failed', { error: event.data });
    case 'RecordingDeleted':
      return of('recording.deleted', { reason: event.data.reason, storage_settings: view.storage_settings, created_at: view.created_at });
    case 'TrackRecorded': {
      const { key: _key, ...track } = event.data;
      return of('track.recorded', track);
    }
    case 'CompositionRequested':
      return of('composition.requested', event.data);
    case 'CompositionStarted': {
      const { lease_seconds: _lease, at: _at, ...started } = event.data;
      return of('composition.started', started);
    }
    case 'CompositionProgressed':
      return of('composition.progress', { composition_id: event.data.composition_id, percent: event.data.percent });
    case 'CompositionCompleted': {
      const composition = view.compositions.find((c) => c.id === event.data.composition_id);
      return of('composition.completed', {
        composition_id: event.data.composition_id,
        initial: composition?.initial ?? false,
        layout: composition?.layout ?? null,
        duration_seconds: event.data.duration_seconds,
        artifacts: event.data.artifacts.map(({ key: _key, ...artifact }) => ({ ...artifact, file_url: artifactFileUrl(links.baseUrl, stored.stream_id, artifact.name) })),
      });
    }
    case 'CompositionFailed': {
      const { composition_id, compositor_id: _by, ...error } = event.data;
      return of('composition.failed', { composition_id, error });
    }
    case 'RecordingScheduled':
    case 'RecordingClaimed':
    case 'RecordingStopRequested':
    case 'TracksRegistered':
    case 'RoomEventsRecorded':
    case 'CaptureGapRecorded':
    case 'RecordingInterrupted':
    case 'RecordingRecovered':
      return null;
    default: {
      const _never: never = event;
      throw new Error(`unknown event ${JSON.stringify(_never)}`);
    }
  }
}
