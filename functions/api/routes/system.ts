/** Public routes: health and the API description. */
import { z } from 'zod';
import { json } from '../http/request.ts';
import type { Route } from '../http/router.ts';

export type HealthCheck = () => Promise<void>;

const HealthSchema = z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.enum(['ok', 'failing'])) });

export function systemRoutes(checks: Readonly<Record<string, HealthCheck>>, openApi: () => unknown): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      public: true,
      doc: {
        summary: 'Liveness and dependency health',
        operationId: 'health',
        tags: ['system'],
        responses: { 200: { description: 'Every dependency answers', schema: HealthSchema }, 503: { description: 'A dependency does not answer' } },
      },
      handle: async () => {
        const results = await Promise.all(
          Object.entries(checks).map(async ([name, check]) => [name, await check().then(() => 'ok' as const, () => 'failing' as const)] as const),
        );
        const ok = results.every(([, result]) => result === 'ok');
        return json(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(results) }, { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      public: true,
      doc: { summary: 'This API as OpenAPI 3.1', operationId: 'openapi', tags: ['system'], responses: { 200: { description: 'The document' } } },
      handle: async () => json(200, openApi()),
    },
  ];
}
