/** Middy middlewares of the HTTP edge. */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Logger } from '../../../shared/logger.ts';
import { problemResponse } from './problem.ts';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>;

export const requestIdOf = (request: Pick<Request, 'event' | 'context'>): string =>
  request.event.requestContext?.requestId || request.context.awsRequestId;

/** Any error becomes problem+json; only unexpected ones are logged (without the body). */
export function problemDetails(logger: Logger): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const requestId = requestIdOf(request);
      const { response, expected } = problemResponse(request.error, requestId, request.event.rawPath);
      if (!expected) logger.error('request failed', { requestId, method: request.event.requestContext?.http?.method, path: request.event.rawPath, error: request.error });
      request.response = response;
    },
  };
}

/** Every response carries the request id and its handler time (`server-timing`); access is logged. */
export function accessLog(logger: Logger): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const started = new WeakMap<object, number>();
  const finish = async (request: Request) => {
    const requestId = requestIdOf(request);
    const t0 = started.get(request.event);
    const ms = t0 === undefined ? undefined : performance.now() - t0;
    if (request.response) {
      request.response.headers = {
        ...request.response.headers,
        'x-request-id': requestId,
        // Time spent inside the handler, for clients and benchmarks to split server from network time.
        ...(ms === undefined ? {} : { 'server-timing': `app;dur=${ms.toFixed(2)}` }),
      };
    }
    logger.debug('request', {
      requestId,
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
      ms: ms === undefined ? undefined : Math.round(ms),
    });
  };
  return {
    before: async (request) => {
      started.set(request.event, performance.now());
    },
    after: finish,
    onError: finish,
  };
}
