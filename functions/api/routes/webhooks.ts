/** `/v1/webhooks`: per-tenant webhook endpoints (Standard Webhooks), secret rotation, the signing secret. */
import { z } from 'zod';
import {
  CreatedWebhookSchema,
  CreateWebhookRequestSchema,
  RotateSecretRequestSchema,
  toWebhookResource,
  WebhookResourceSchema,
} from '../../../shared/webhook-endpoints/model.ts';
import type { WebhookEndpointService } from '../../../shared/webhook-endpoints/service.ts';
import { INTEGRATION_EVENT_TYPES } from '../../../shared/integration/event-types.ts';
import { MAX_REPLAY_EVENTS, type DeliveryLog, type PageOptions } from '../../../shared/webhook-delivery/delivery-log.ts';
import { DeliveryResourceSchema, DeliveryStatusSchema, toDeliveryResource } from '../../../shared/webhook-delivery/model.ts';
import { json, jsonBody, parseWith, type ApiRequest } from '../http/request.ts';
import type { Route } from '../http/router.ts';

const ERRORS = {
  400: { description: 'A field is invalid (a refused url names why); `errors` names each one' },
  401: { description: 'Missing or unknown API key' },
  404: { description: 'No such webhook for this tenant' },
} as const;

export function webhookRoutes(service: WebhookEndpointService, maxBodyBytes: number): Route[] {
  const id = (req: ApiRequest) => req.params['id'] ?? '';
  return [
    {
      method: 'POST',
      path: '/v1/webhooks',
      doc: {
        summary: 'Subscribe an endpoint to integration events; the `whsec_` secret is shown once',
        operationId: 'createWebhook',
        tags: ['webhooks'],
        requestBody: CreateWebhookRequestSchema,
        responses: { 201: { description: 'Created', schema: CreatedWebhookSchema }, ...ERRORS },
      },
      handle: async (req) => {
        const { endpoint, secret } = await service.create(req.tenantId, jsonBody(req, CreateWebhookRequestSchema, maxBodyBytes));
        return json(201, { ...toWebhookResource(endpoint), secret }, { location: `/v1/webhooks/${endpoint.webhook_id}` });
      },
    },
    {
      method: 'GET',
      path: '/v1/webhooks',
      doc: { summary: 'The tenant’s webhook endpoints', operationId: 'listWebhooks', tags: ['webhooks'], responses: { 200: { description: 'OK', schema: z.object({ items: z.array(WebhookResourceSchema) }) }, ...ERRORS } },
      handle: async (req) => json(200, { items: (await service.list(req.tenantId)).map(toWebhookResource) }),
    },
    {
      method: 'GET',
      path: '/v1/webhooks/signing-secret',
      doc: {
        summary: 'The secret that signs deliveries to recordings’ own webhook_url (Standard Webhooks)',
        operationId: 'getSigningSecret',
        tags: ['webhooks'],
        responses: { 200: { description: 'OK', schema: z.object({ secret: z.string() }) }, ...ERRORS },
      },
      handle: async (req) => json(200, { secret: await service.signingSecret(req.tenantId) }),
    },
    {
      method: 'GET',
      path: '/v1/webhooks/{id}',
      doc: { summary: 'One webhook endpoint', operationId: 'getWebhook', tags: ['webhooks'], responses: { 200: { description: 'OK', schema: WebhookResourceSchema }, ...ERRORS } },
      handle: async (req) => json(200, toWebhookResource(await service.get(req.tenantId, id(req)))),
    },
    {
      method: 'DELETE',
      path: '/v1/webhooks/{id}',
      doc: { summary: 'Unsubscribe', operationId: 'deleteWebhook', tags: ['webhooks'], responses: { 204: { description: 'Deleted' }, ...ERRORS } },
      handle: async (req) => {
        await service.delete(req.tenantId, id(req));
        return { statusCode: 204, headers: {}, body: '' };
      },
    },
    {
      method: 'POST',
      path: '/v1/webhooks/{id}/rotate-secret',
      doc: {
        summary: 'A new secret; the old one keeps signing beside it (two signatures) until `previous_expires_at`',
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        requestBody: RotateSecretRequestSchema,
        responses: { 200: { description: 'OK', schema: z.object({ secret: z.string(), previous_expires_at: z.string() }) }, ...ERRORS },
      },
      handle: async (req) => {
        const body = jsonBody(req, RotateSecretRequestSchema, maxBodyBytes, { optional: true }) as { overlap_seconds?: number };
        return json(200, await service.rotate(req.tenantId, id(req), body.overlap_seconds));
      },
    },
    {
      method: 'POST',
      path: '/v1/webhooks/{id}/enable',
      doc: { summary: 'Re-enable an endpoint that was disabled (410 Gone, refused address)', operationId: 'enableWebhook', tags: ['webhooks'], responses: { 200: { description: 'OK', schema: WebhookResourceSchema }, ...ERRORS } },
      handle: async (req) => json(200, toWebhookResource(await service.enable(req.tenantId, id(req)))),
    },
  ];
}

const DeliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(500).optional(),
  /** Only deliveries in this state (e.g. `failed` or `dead`, to find what needs a replay). */
  status: DeliveryStatusSchema.optional(),
  /** Only deliveries of this event type. */
  event_type: z.enum(INTEGRATION_EVENT_TYPES).optional(),
});

export const ReplayRangeRequestSchema = z
  .object({
    since: z.iso.datetime({ offset: true, message: 'is an ISO 8601 date-time' }),
    until: z.iso.datetime({ offset: true, message: 'is an ISO 8601 date-time' }).optional(),
    /** Also resend events this endpoint already received (default: only those not delivered). */
    include_delivered: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.until === undefined || Date.parse(r.until) > Date.parse(r.since), { message: 'must be after since', path: ['until'] });

const DeliveryPageSchema = z.object({ items: z.array(DeliveryResourceSchema), next_cursor: z.string().nullable() });

/** Query → page options, and a page → the response. */
const pageOptions = (req: ApiRequest): PageOptions => parseWith(DeliveriesQuerySchema, req.query, 'query');
const pageResponse = (page: Awaited<ReturnType<DeliveryLog['list']>>) => json(200, { items: page.items.map(toDeliveryResource), next_cursor: page.next_cursor });

const ReplayRangeResultSchema = z.object({ replayed: z.number().int(), skipped_delivered: z.number().int(), next_since: z.string().nullable() });

const DELIVERY_ERRORS = { ...ERRORS, 409: { description: 'The endpoint is disabled: enable it before replaying' } } as const;

/** The delivery log of one endpoint and replays. */
export function webhookDeliveryRoutes(log: DeliveryLog, maxBodyBytes: number): Route[] {
  const id = (req: ApiRequest) => req.params['id'] ?? '';
  return [
    {
      method: 'GET',
      path: '/v1/webhooks/{id}/deliveries',
      doc: {
        summary: 'The endpoint’s deliveries, newest first, each with its attempts (status, error, duration)',
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        query: DeliveriesQuerySchema,
        responses: { 200: { description: 'OK', schema: DeliveryPageSchema }, ...ERRORS },
      },
      handle: async (req) => pageResponse(await log.list(req.tenantId, id(req), pageOptions(req))),
    },
    {
      method: 'GET',
      path: '/v1/recordings/{id}/webhook-deliveries',
      doc: {
        summary: 'Deliveries to the recording’s own webhook_url, newest first, each with its attempts',
        operationId: 'listRecordingWebhookDeliveries',
        tags: ['webhooks'],
        query: DeliveriesQuerySchema,
        responses: { 200: { description: 'OK', schema: DeliveryPageSchema }, 401: ERRORS[401], 404: { description: 'No such recording for this tenant' } },
      },
      handle: async (req) => pageResponse(await log.listForRecording(req.tenantId, id(req), pageOptions(req))),
    },
    {
      method: 'POST',
      path: '/v1/webhooks/{id}/deliveries/{event_id}/replay',
      doc: {
        summary: 'Send one delivery again now, with a fresh retry budget (same webhook-id)',
        operationId: 'replayWebhookDelivery',
        tags: ['webhooks'],
        responses: { 202: { description: 'Accepted: the attempt is queued', schema: DeliveryResourceSchema }, ...DELIVERY_ERRORS },
      },
      handle: async (req) => json(202, toDeliveryResource(await log.replay(req.tenantId, id(req), req.params['event_id'] ?? ''))),
    },
    {
      method: 'POST',
      path: '/v1/recordings/{id}/webhook-deliveries/{event_id}/replay',
      doc: {
        summary: 'Send one delivery to the recording’s own webhook_url again now, with a fresh retry budget (same webhook-id)',
        operationId: 'replayRecordingWebhookDelivery',
        tags: ['webhooks'],
        responses: { 202: { description: 'Accepted: the attempt is queued', schema: DeliveryResourceSchema }, 401: ERRORS[401], 404: { description: 'No such recording, or no delivery of this event to its webhook_url' } },
      },
      handle: async (req) => json(202, toDeliveryResource(await log.replayForRecording(req.tenantId, id(req), req.params['event_id'] ?? ''))),
    },
    {
      method: 'POST',
      path: '/v1/webhooks/{id}/replay',
      doc: {
        summary: 'Send again every subscribed event in [since, until) not yet delivered to this endpoint (from the tenant feed, 30 days)',
        operationId: 'replayWebhookRange',
        tags: ['webhooks'],
        requestBody: ReplayRangeRequestSchema,
        responses: { 202: { description: `Accepted; at most ${MAX_REPLAY_EVENTS} events per call, continue from next_since`, schema: ReplayRangeResultSchema }, ...DELIVERY_ERRORS },
      },
      handle: async (req) => json(202, await log.replayRange(req.tenantId, id(req), jsonBody(req, ReplayRangeRequestSchema, maxBodyBytes))),
    },
  ];
}
