/**
 * Calls an API Gateway v2 (HTTP API, payload 2.0) handler in-process with events shaped
 * like the ones API Gateway sends: lower-case headers, `rawPath`, `rawQueryString`,
 * comma-joined `queryStringParameters`, a random request id, and a Lambda context.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { apiGatewayEventV2 } from '../../local/http-adapter.ts';
import { lambdaContext } from '../../local/lambda-context.ts';

export type ApiGatewayHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export type QueryValue = string | number | boolean;

export interface RequestOptions {
  /** Header names in any case; `undefined` drops a default header. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** An object or array is sent as JSON (`content-type: application/json` unless given); a string or Buffer is sent as is. */
  readonly body?: unknown;
  /** Added to any query string already in `path`; an array value repeats the parameter. */
  readonly query?: Readonly<Record<string, QueryValue | readonly QueryValue[]>>;
}

export interface ApiResult {
  readonly status: number;
  /** Lower-cased header names. */
  readonly headers: Record<string, string>;
  /** The raw response body (decoded from base64 when the handler encoded it). */
  readonly body: string;
  /** The parsed body when the response is JSON (`application/json` or `+json`), else undefined. */
  readonly json: any;
  /** The event that was sent, for assertions on request ids and the like. */
  readonly event: APIGatewayProxyEventV2;
}

export function buildEvent(method: string, path: string, options: RequestOptions = {}, defaults: Readonly<Record<string, string>> = {}): APIGatewayProxyEventV2 {
  const url = new URL(path, 'http://api.capstan.test');
  for (const [name, value] of Object.entries(options.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(v));
  }

  const headers: Record<string, string> = { host: 'api.capstan.test', 'user-agent': 'capstan-test', ...lower(defaults) };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = value;
  }

  let raw: Buffer | undefined;
  if (options.body === undefined) raw = undefined;
  else if (Buffer.isBuffer(options.body)) raw = options.body;
  else if (typeof options.body === 'string') raw = Buffer.from(options.body, 'utf8');
  else {
    raw = Buffer.from(JSON.stringify(options.body), 'utf8');
    if (!('content-type' in lower(options.headers ?? {}))) headers['content-type'] = 'application/json';
  }
  if (raw !== undefined) headers['content-length'] = String(raw.length);
  // The same event builder the local runtime's HTTP adapter uses.
  return apiGatewayEventV2({ method, url, headers, body: raw, requestId: randomUUID() });
}

function lower(headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

export function apiClient(handler: ApiGatewayHandler, defaults: { readonly headers?: Readonly<Record<string, string>>; readonly apiKey?: string } = {}) {
  const defaultHeaders = { ...(defaults.apiKey === undefined ? {} : { authorization: `Bearer ${defaults.apiKey}` }), ...defaults.headers };

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResult> {
    const event = buildEvent(method, path, options, defaultHeaders);
    const result = await handler(event, lambdaContext(event.requestContext.requestId));
    const headers = lower(Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])));
    const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
    const contentType = headers['content-type'] ?? '';
    const isJson = /^application\/(json|[^;]*\+json)/i.test(contentType);
    return { status: result.statusCode ?? 200, headers, body, json: isJson && body !== '' ? JSON.parse(body) : undefined, event };
  }

  return {
    request,
    get: (path: string, options?: RequestOptions) => request('GET', path, options),
    post: (path: string, body?: unknown, options?: RequestOptions) => request('POST', path, { ...options, body }),
    delete: (path: string, options?: RequestOptions) => request('DELETE', path, options),
    /** The same handler with other default headers (e.g. another tenant's key). */
    as: (apiKey: string | undefined) => apiClient(handler, apiKey === undefined ? {} : { apiKey }),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
