/** Stored event ⇄ recording domain event, parsed with zod at the boundary. */
import type { EventCodec } from '../eventstore/command-handler.ts';
import type { StoredEvent } from '../eventstore/port.ts';
import { RecordingEventSchema, type RecordingEvent } from './events.ts';

export const recordingCodec: EventCodec<RecordingEvent> = {
  decode: (stored: StoredEvent) =>
    RecordingEventSchema.parse({ type: stored.type, schema_version: stored.schema_version, data: stored.data }),
  encode: (event) => ({ type: event.type, schema_version: event.schema_version, data: event.data as Record<string, unknown> }),
};
