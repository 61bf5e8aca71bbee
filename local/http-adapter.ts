/**
 * Serves an API Gateway v2 (HTTP API, payload 2.0) handler on a plain Node HTTP server, so
 * the local runtime runs the Lambda code unchanged. Like API Gateway it caps bodies
 * (10 MB) and base64-encodes bodies that are not text.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEXT = /^(text\/|application\/(json|.*\+json|xml|sdp|x-www-form-urlencoded))/i;

export interface RawHttpRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  readonly requestId: string;
  readonly sourceIp?: string;
  readonly protocol?: string;
}

/** An HTTP request as API Gateway (HTTP API, payload 2.0) hands it to Lambda. */
export function apiGatewayEventV2(req: RawHttpRequest): APIGatewayProxyEventV2 {
  const { url, headers, body } = req;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const hasBody = body !== undefined && body.length > 0;
  const isText = TEXT.test(headers['content-type'] ?? '');
  const now = new Date();
  const host = headers['host'] ?? url.host;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: { ...headers },
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: { method: req.method.toUpperCase(), path: url.pathname, protocol: req.protocol ?? 'HTTP/1.1', sourceIp: req.sourceIp ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: req.requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: hasBody ? (isText ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: hasBody && !isText,
  };
}

export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, requestId: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  return apiGatewayEventV2({
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', 'http://localhost'),
    headers,
    body,
    requestId,
    sourceIp: req.socket.remoteAddress,
    protocol: `HTTP/${req.httpVersion}`,
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string>), 'content-length': String(body.length) });
  res.end(body);
}

export function serveHttpApi(handler: HttpHandler): Server {
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    void (async () => {
      const body = await readBody(req);
      if (body === null) {
        send(res, {
          statusCode: 413,
          headers: { 'content-type': 'application/problem+json', connection: 'close' },
          body: JSON.stringify({ type: 'https://capstan.dev/problems/payload-too-large', title: 'Payload too large', status: 413, detail: `bodies are at most ${API_GATEWAY_MAX_BODY_BYTES} bytes` }),
        });
        req.destroy();
        return;
      }
      send(res, await handler(toApiGatewayEvent(req, body, requestId), lambdaContext(requestId)));
    })().catch(() => {
      if (!res.headersSent) send(res, { statusCode: 500, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify({ type: 'https://capstan.dev/problems/internal', title: 'Internal error', status: 500, detail: `request ${requestId} failed` }) });
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
