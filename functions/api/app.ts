/**
 * The HTTP API as one middy handler: middlewares (access log, problem+json errors) first,
 * then the router, the API key check and the route. Dependencies come in built; nothing
 * here reads the environment.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Logger } from '../../shared/logger.ts';
import type { RecordingService } from '../../shared/recording/service.ts';
import { UnauthorizedError } from './http/errors.ts';
import { accessLog, problemDetails, requestIdOf } from './http/middleware.ts';
import { fromEvent } from './http/request.ts';
import { createRouter, type Route } from './http/router.ts';
import { openApiDocument } from './openapi.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { systemRoutes, type HealthCheck } from './routes/system.ts';
import { trackRoutes } from './routes/tracks.ts';
import { compositionRoutes } from './routes/compositions.ts';
import { feedRoutes } from './routes/feed.ts';
import { webhookDeliveryRoutes, webhookRoutes } from './routes/webhooks.ts';
import type { DeliveryLog } from '../../shared/webhook-delivery/delivery-log.ts';
import type { WebhookEndpointService } from '../../shared/webhook-endpoints/service.ts';
import type { EventFeed } from '../../shared/feed/port.ts';
import type { Presigner } from '../../shared/media/downloads.ts';
import type { Clock } from '../../shared/clock.ts';

export interface ApiDeps {
  readonly service: RecordingService;
  readonly tenantForApiKey: (apiKey: string) => Promise<string | null>;
  readonly healthChecks: Readonly<Record<string, HealthCheck>>;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly presign: Presigner;
  readonly clock: Clock;
  readonly feed: EventFeed;
  readonly webhooks: WebhookEndpointService;
  /** Delivery logs and replays. */
  readonly deliveries: DeliveryLog;
  /** `GET /v1/events` serves events older than this (CAPSTAN_FEED_SETTLE_MS). */
  readonly feedSettleMs: number;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function createApiHandler(deps: ApiDeps) {
  let openApi: unknown;
  const routes: Route[] = [
    ...systemRoutes(deps.healthChecks, (): unknown => (openApi ??= openApiDocument(routes, { title: 'Capstan API', version: '1.0.0' }))),
    ...recordingRoutes(deps.service, deps.maxBodyBytes, deps.webhooks.checkUrl),
    ...trackRoutes(deps.service, deps.maxBodyBytes),
    ...compositionRoutes(deps),
    ...feedRoutes({ feed: deps.feed, clock: deps.clock, settleMs: deps.feedSettleMs }),
    ...webhookRoutes(deps.webhooks, deps.maxBodyBytes),
    ...webhookDeliveryRoutes(deps.deliveries, deps.maxBodyBytes),
  ];
  const match = createRouter(routes);

  async function route(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const base = fromEvent(event, requestIdOf({ event, context }));
    const { route, params } = match(base.method, base.path);
    let tenantId = '';
    if (!route.public) {
      const key = BEARER.exec(base.headers['authorization'] ?? '')?.[1];
      const tenant = key === undefined ? null : await deps.tenantForApiKey(key);
      if (tenant === null) throw new UnauthorizedError();
      tenantId = tenant;
    }
    return route.handle({ ...base, params, tenantId });
  }

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog(deps.logger))
    .use(problemDetails(deps.logger))
    .handler(route);
}
