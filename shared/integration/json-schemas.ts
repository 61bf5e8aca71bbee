/**
 * JSON Schemas (draft 2020-12) of the integration event payloads, generated from the zod
 * schemas: what EventBridge subscribers and webhook receivers get. `npm run docs:events`
 * writes them to docs/events/; a unit test fails when the committed files are stale.
 */
import { z } from 'zod';
import { ArtifactSchema, FailureSchema } from '../recording/model.ts';
import { EVENT_SOURCE, INTEGRATION_EVENT_TYPES, type IntegrationEventType } from './event-types.ts';
import { IntegrationEventSchema } from './integration-event.ts';

const PublicArtifact = ArtifactSchema.omit({ key: true }).extend({
  /** The API's download link for the artifact (`GET /v1/recordings/{id}/artifacts/{name}` → 302 to a presigned URL; send the API key). */
  file_url: z.string(),
});

/** Payload `data` shapes that consumers rely on; the rest are documented as open objects. */
const DATA: Partial<Record<IntegrationEventType, z.ZodType>> = {
  'recording.completed': z.object({ duration_seconds: z.number().nonnegative(), artifacts: z.array(PublicArtifact) }).loose(),
  'recording.failed': z.object({ error: FailureSchema }).loose(),
  'composition.completed': z
    .object({ composition_id: z.string(), initial: z.boolean(), duration_seconds: z.number().nonnegative(), artifacts: z.array(PublicArtifact) })
    .loose(),
  'composition.failed': z.object({ composition_id: z.string(), error: FailureSchema }).loose(),
  'composition.progress': z.object({ composition_id: z.string(), percent: z.number().int().min(0).max(100) }).loose(),
};

export function payloadSchema(type: IntegrationEventType): z.ZodType {
  return IntegrationEventSchema.extend({ type: z.literal(type), data: DATA[type] ?? z.record(z.string(), z.unknown()) });
}

export function eventJsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    INTEGRATION_EVENT_TYPES.map((type) => [
      type,
      {
        $id: `https://capstan.dev/schemas/events/${type}.json`,
        title: type,
        description: `Capstan integration event "${type}": EventBridge source "${EVENT_SOURCE}", detail-type "${type}" (the payload is the detail); webhook type "${type}" (the payload is the body).`,
        ...z.toJSONSchema(payloadSchema(type), { target: 'draft-2020-12' }),
      },
    ]),
  );
}
