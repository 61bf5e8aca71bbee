/**
 * A small router over API Gateway v2 events: `{param}` paths, 404 for unknown paths and 405
 * (with `Allow`) for known paths with another method. Routes are data, so the OpenAPI
 * document is generated from the same table.
 */
import type { z } from 'zod';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.ts';
import type { ApiRequest, ApiResponse } from './request.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDoc {
  readonly summary: string;
  readonly operationId: string;
  readonly tags?: readonly string[];
  readonly requestBody?: z.ZodType;
  /** Other body media types accepted beside JSON, documented as strings (e.g. `application/sdp`). */
  readonly alsoAccepts?: readonly string[];
  readonly query?: z.ZodType;
  readonly responses: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  readonly headers?: readonly { name: string; description: string; required?: boolean }[];
}

export interface Route {
  readonly method: Method;
  /** e.g. `/v1/recordings/{id}` */
  readonly path: string;
  /** Public routes (health, OpenAPI) skip the API key check. */
  readonly public?: boolean;
  readonly doc: RouteDoc;
  readonly handle: (req: ApiRequest) => Promise<ApiResponse>;
}

interface Compiled {
  readonly route: Route;
  readonly pattern: RegExp;
}

const compile = (route: Route): Compiled => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, '(?<$1>[^/]+)')}/?$`),
});

export function createRouter(routes: readonly Route[]) {
  const compiled = routes.map(compile);
  return function match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const candidates = compiled
      .map((c) => ({ c, m: c.pattern.exec(path) }))
      .filter((x): x is { c: Compiled; m: RegExpExecArray } => x.m !== null);
    if (candidates.length === 0) throw new RouteNotFoundError(method, path);
    const hit = candidates.find((x) => x.c.route.method === method);
    if (hit === undefined) throw new MethodNotAllowedError(method, [...new Set(candidates.map((x) => x.c.route.method))]);
    const params = Object.fromEntries(Object.entries(hit.m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
    return { route: hit.c.route, params };
  };
}
