/** How a recording view is shown to API callers. */
import type { StoredEvent } from '../../shared/eventstore/port.ts';
import type { RecordingResource } from '../../shared/recording/requests.ts';
import type { CompositionView, RecordingView } from '../../shared/recording/view.ts';
import type { CompositionResource } from '../../shared/composition/model.ts';
import type { Artifact } from '../../shared/recording/model.ts';

const withoutKey = ({ key: _key, ...artifact }: Artifact) => artifact;

export function toCompositionResource(recordingId: string, view: CompositionView): CompositionResource {
  const { compositor_id: _by, artifacts, ...rest } = view;
  return { ...rest, recording_id: recordingId, artifacts: artifacts.map(withoutKey) };
}

export function toRecordingResource(view: RecordingView): RecordingResource {
  const { tenant_id: _tenant, version, artifacts, compositions, ...rest } = view;
  return {
    ...rest,
    artifacts: artifacts.map(withoutKey),
    compositions: compositions.map((c) => toCompositionResource(view.id, c)),
    sequence: version,
  };
}

export function toEventResource(event: StoredEvent) {
  return {
    id: event.event_id,
    sequence: event.version,
    type: event.type,
    schema_version: event.schema_version,
    occurred_at: event.occurred_at,
    correlation_id: event.correlation_id,
    causation_id: event.causation_id,
    data: event.data,
  };
}
