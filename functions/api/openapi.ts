/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
import { z } from 'zod';
import type { Route } from './http/router.ts';

const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  request_id: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' });

function queryParameters(query: z.ZodType | undefined) {
  if (query === undefined) return [];
  const json = schema(query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: s }));
}

export function openApiDocument(routes: readonly Route[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { doc } = route;
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const headers = (doc.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } }));
    const responses = Object.fromEntries(
      Object.entries(doc.responses).map(([status, r]) => {
        const content = Number(status) >= 400
          ? { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }
          : r.schema ? { 'application/json': { schema: schema(r.schema, 'output') } } : undefined;
        return [status, { description: r.description, ...(content ? { content } : {}) }];
      }),
    );
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: doc.operationId,
      summary: doc.summary,
      tags: doc.tags,
      parameters: [...params, ...queryParameters(doc.query), ...headers],
      ...(doc.requestBody
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: schema(doc.requestBody, 'input') },
                ...Object.fromEntries((doc.alsoAccepts ?? []).map((type) => [type, { schema: { type: 'string' } }])),
              },
            },
          }
        : {}),
      responses,
      security: route.public ? [] : [{ bearer: [] }],
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: schema(ProblemSchema, 'output') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key' } },
    },
  };
}
