/** `GET /v1/events`: the tenant's integration events in order, for consumers catching up. */
import { z } from 'zod';
import type { Clock } from '../../../shared/clock.ts';
import { decodeFeedCursor, type EventFeed } from '../../../shared/feed/port.ts';
import { IntegrationEventSchema } from '../../../shared/integration/integration-event.ts';
import { RequestValidationError } from '../http/errors.ts';
import { json, parseWith } from '../http/request.ts';
import type { Route } from '../http/router.ts';

export const FeedQuerySchema = z.object({
  after: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const FeedPageSchema = z.object({ items: z.array(IntegrationEventSchema), next_cursor: z.string().nullable() });

export function feedRoutes(deps: { feed: EventFeed; clock: Clock; settleMs: number }): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/events',
      doc: {
        summary: 'The tenant’s integration events in order (the same payloads as webhooks and EventBridge), to resume after missed deliveries',
        operationId: 'listTenantEvents',
        tags: ['events'],
        query: FeedQuerySchema,
        responses: {
          200: { description: 'A page; pass next_cursor as `after` to continue (it is returned even when the page is empty)', schema: FeedPageSchema },
          400: { description: '`after` is not a cursor this API returned, or `limit` is out of range' },
          401: { description: 'Missing or unknown API key' },
        },
      },
      handle: async (req) => {
        const query = parseWith(FeedQuerySchema, req.query, 'query');
        const after = query.after === undefined ? null : decodeFeedCursor(query.after);
        if (query.after !== undefined && after === null) throw new RequestValidationError([{ path: 'after', message: 'is not a cursor this API returned' }], 'query');
        const settledBefore = new Date(Date.parse(deps.clock.now()) - deps.settleMs).toISOString();
        return json(200, await deps.feed.read(req.tenantId, after, query.limit, settledBefore));
      },
    },
  ];
}
