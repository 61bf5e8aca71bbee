/** Routes under /v1/recordings: thin — parse, call the service, shape the answer. */
import { z } from 'zod';
import type { RecordingService } from '../../../shared/recording/service.ts';
import {
  CreateRecordingRequestSchema,
  ListEventsQuerySchema,
  ListRecordingsQuerySchema,
  PauseRecordingRequestSchema,
  RecordingEventListSchema,
  RecordingListSchema,
  RecordingResourceSchema,
  StopRecordingRequestSchema,
} from '../../../shared/recording/requests.ts';
import type { UrlCheck } from '../../../shared/webhook-endpoints/service.ts';
import { RequestValidationError } from '../http/errors.ts';
import { json, jsonBody, parseWith, type ApiRequest } from '../http/request.ts';
import type { Route } from '../http/router.ts';
import { toEventResource, toRecordingResource } from '../representation.ts';

const IdempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
/** The header as a named field, so that a bad key's error names it. */
const IdempotencyHeaderSchema = z.object({ 'Idempotency-Key': IdempotencyKeySchema });
const METADATA_FILTER = /^metadata\.(.+)$/;

const ERRORS = {
  400: { description: 'A field is invalid; `errors` names each one' },
  401: { description: 'Missing or unknown API key' },
} as const;
const ERRORS_FOR_ONE = { ...ERRORS, 404: { description: 'No such recording for this tenant' } } as const;

/** `checkWebhookUrl`: where a recording's own `webhook_url` may point (the webhook SSRF guard). */
export function recordingRoutes(service: RecordingService, maxBodyBytes: number, checkWebhookUrl: UrlCheck): Route[] {
  const ctx = (req: ApiRequest) => ({ tenantId: req.tenantId, requestId: req.requestId });
  const id = (req: ApiRequest) => req.params['id'] ?? '';

  const lifecycle = (
    path: 'stop' | 'pause' | 'resume',
    type: 'StopRecording' | 'PauseRecording' | 'ResumeRecording',
    schema: z.ZodType,
  ): Route => ({
    method: 'POST',
    path: `/v1/recordings/{id}/${path}`,
    doc: {
      summary: `${path[0]?.toUpperCase()}${path.slice(1)} a recording`,
      operationId: `${path}Recording`,
      tags: ['recordings'],
      requestBody: schema,
      responses: { 202: { description: 'Accepted', schema: RecordingResourceSchema }, ...ERRORS_FOR_ONE, 409: { description: 'Not possible in the current status' } },
    },
    handle: async (req) => {
      const body = jsonBody(req, schema, maxBodyBytes, { optional: true }) as { reason?: string };
      return json(202, toRecordingResource(await service.execute(ctx(req), id(req), type, body.reason ?? null)));
    },
  });

  return [
    {
      method: 'POST',
      path: '/v1/recordings',
      doc: {
        summary: 'Create a recording',
        operationId: 'createRecording',
        tags: ['recordings'],
        requestBody: CreateRecordingRequestSchema,
        headers: [{ name: 'Idempotency-Key', description: 'Same key and body within 24 h returns the first answer; another body is 422' }],
        responses: {
          201: { description: 'Created (or replayed for a repeated Idempotency-Key)', schema: RecordingResourceSchema },
          ...ERRORS,
          413: { description: 'Body too large' },
          415: { description: 'Body is not JSON' },
          422: { description: 'Idempotency-Key reused with another body' },
        },
      },
      handle: async (req) => {
        const rawKey = req.headers['idempotency-key'];
        const key = rawKey === undefined ? undefined : parseWith(IdempotencyHeaderSchema, { 'Idempotency-Key': rawKey }, 'header')['Idempotency-Key'];
        const body = jsonBody(req, CreateRecordingRequestSchema, maxBodyBytes);
        if (body.webhook_url !== undefined) {
          const check = await checkWebhookUrl(body.webhook_url, { acceptUnresolved: true });
          if (!check.ok) throw new RequestValidationError([{ path: 'webhook_url', message: `is refused: ${check.reason}` }]);
        }
        const { view, replayed } = await service.create(ctx(req), body, key);
        return json(201, toRecordingResource(view), {
          location: `/v1/recordings/${view.id}`,
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/recordings',
      doc: {
        summary: 'List recordings, newest first (eventually consistent)',
        operationId: 'listRecordings',
        tags: ['recordings'],
        query: ListRecordingsQuerySchema,
        responses: { 200: { description: 'A page', schema: RecordingListSchema }, ...ERRORS },
      },
      handle: async (req) => {
        const metadata: Record<string, string> = {};
        const rest: Record<string, string> = {};
        for (const [key, value] of Object.entries(req.query)) {
          const match = METADATA_FILTER.exec(key);
          if (match?.[1]) metadata[match[1]] = value;
          else rest[key] = value;
        }
        const unknown = Object.keys(rest).filter((k) => !['limit', 'cursor', 'status'].includes(k));
        if (unknown.length > 0) throw new RequestValidationError(unknown.map((path) => ({ path, message: 'is not a known query parameter' })), 'query');
        const query = parseWith(ListRecordingsQuerySchema, rest, 'query');
        const page = await service.list(ctx(req), { ...query, metadata });
        return json(200, { items: page.items.map(toRecordingResource), next_cursor: page.nextCursor });
      },
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}',
      doc: {
        summary: 'Get a recording (strongly consistent)',
        operationId: 'getRecording',
        tags: ['recordings'],
        responses: { 200: { description: 'The recording', schema: RecordingResourceSchema }, ...ERRORS_FOR_ONE },
      },
      handle: async (req) => json(200, toRecordingResource(await service.get(ctx(req), id(req)))),
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/events',
      doc: {
        summary: "The recording's ordered event log",
        operationId: 'listRecordingEvents',
        tags: ['recordings'],
        query: ListEventsQuerySchema,
        responses: { 200: { description: 'Events after `after`', schema: RecordingEventListSchema }, ...ERRORS_FOR_ONE },
      },
      handle: async (req) => {
        const query = parseWith(ListEventsQuerySchema, req.query, 'query');
        const { items, hasMore } = await service.events(ctx(req), id(req), query.after, query.limit);
        const last = items.at(-1);
        return json(200, { items: items.map(toEventResource), next_cursor: hasMore && last ? String(last.version) : null });
      },
    },
    lifecycle('stop', 'StopRecording', StopRecordingRequestSchema),
    lifecycle('pause', 'PauseRecording', PauseRecordingRequestSchema),
    lifecycle('resume', 'ResumeRecording', StopRecordingRequestSchema),
    {
      method: 'DELETE',
      path: '/v1/recordings/{id}',
      doc: {
        summary: 'Delete a recording: media removed, metadata kept',
        operationId: 'deleteRecording',
        tags: ['recordings'],
        responses: { 202: { description: 'Accepted; media removal follows', schema: RecordingResourceSchema }, ...ERRORS_FOR_ONE, 409: { description: 'Still recording: stop it first' } },
      },
      handle: async (req) => json(202, toRecordingResource(await service.execute(ctx(req), id(req), 'DeleteRecording'))),
    },
  ];
}
