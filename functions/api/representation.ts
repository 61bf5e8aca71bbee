/** How a recording view is shown to API callers. */
import type { StoredEvent } from '../../shared/eventstore/port.ts';
import type { RecordingResource } from '../../shared/recording/requests.ts';
import type { RecordingView } from '../../shared/recording/view.ts';

export function toRecordingResource(view: RecordingView): RecordingResource {
  const { tenant_id: _tenant, version, artifacts, ...rest } = view;
  return { ...rest, artifacts: artifacts.map(({ key: _key, ...artifact }) => artifact), sequence: version };
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
