/**
 * The request as route handlers see it, built from an API Gateway v2 event, and the
 * parsers that validate its parts with zod. Validation errors name every bad field.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { MalformedJsonError, PayloadTooLargeError, RequestValidationError, UnsupportedMediaTypeError, type FieldError } from './errors.ts';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: Buffer | undefined;
  readonly requestId: string;
  /** Set by the router once the bearer key is checked. */
  readonly tenantId: string;
}

export type ApiResponse = APIGatewayProxyStructuredResultV2;

export function fromEvent(event: APIGatewayProxyEventV2, requestId: string): Omit<ApiRequest, 'params' | 'tenantId'> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']));
  const rawBody = event.body === undefined || event.body === null ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? '']));
  return { method: event.requestContext.http.method.toUpperCase(), path: event.rawPath, query, headers, rawBody, requestId };
}

export function zodIssues(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    // Unknown keys are reported on the parent; name each one so the caller can find it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: 'is not a known field' }));
    }
    return [{ path, message: issue.message }];
  }).flat();
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: RequestValidationError['where']): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestValidationError(zodIssues(parsed.error), where);
  return parsed.data;
}

/** Parse a JSON body: 415 unless JSON, 413 past the limit, 400 for bad JSON or a bad field. */
export function jsonBody<S extends z.ZodType>(req: ApiRequest, schema: S, maxBytes: number, options: { optional?: boolean } = {}): z.infer<S> {
  const bytes = req.rawBody?.length ?? 0;
  if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  if (bytes === 0 && options.optional) return parseWith(schema, {}, 'body');
  const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json' && !contentType?.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(contentType, ['application/json']);
  }
  let value: unknown;
  try {
    value = JSON.parse(req.rawBody?.toString('utf8') ?? '');
  } catch (error) {
    throw new MalformedJsonError({ cause: error });
  }
  return parseWith(schema, value, 'body');
}

/** The body's media type, lower-cased, without parameters. */
export function mediaType(req: ApiRequest): string | undefined {
  return req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** A text body of one of `accepted` media types (e.g. `application/sdp`), with the same 413/415 rules. */
export function textBody(req: ApiRequest, accepted: readonly string[], maxBytes: number): string {
  const bytes = req.rawBody?.length ?? 0;
  if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  const type = mediaType(req);
  if (type === undefined || !accepted.includes(type)) throw new UnsupportedMediaTypeError(type, accepted);
  return req.rawBody?.toString('utf8') ?? '';
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
