/**
 * Delivery attempts against a real local HTTP receiver that verifies every signature with the
 * `standardwebhooks` library; status classification, no redirects, timeouts, and the
 * connect-time SSRF guard (including DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhook } from './deliver.ts';
import { newWebhookSecret } from './secrets.ts';
import { signWebhook } from './signature.ts';
import { parseAllowlist } from './url-check.ts';

const secret = newWebhookSecret();
const verified: unknown[] = [];
let server: Server;
let base: string;
const allow = parseAllowlist(['127.0.0.1']);

function route(req: IncomingMessage, res: ServerResponse, body: string) {
  switch (req.url) {
    case '/ok':
      verified.push(new Webhook(secret).verify(body, req.headers as Record<string, string>));
      return res.writeHead(204).end();
    case '/gone':
      return res.writeHead(410).end();
    case '/busy':
      return res.writeHead(429, { 'retry-after': '120' }).end();
    case '/moved':
      return res.writeHead(302, { location: '/ok' }).end();
    case '/hang':
      return; // never answers
    default:
      return res.writeHead(500).end('boom');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => route(req, res, body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const body = JSON.stringify({ id: 'evt_1', type: 'recording.completed' });
const headers = () => ({ ...signWebhook({ id: 'evt_1', timestamp: Math.floor(Date.now() / 1000), body }, [secret]) });

describe('deliverWebhook', () => {
  it('delivers a body the receiver verifies with the standardwebhooks library', async () => {
    expect(await deliverWebhook({ url: `${base}/ok`, body, headers: headers(), allow })).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(verified).toEqual([JSON.parse(body)]);
  });

  it('classifies 410, 429 with Retry-After, 5xx, and does not follow redirects', async () => {
    expect(await deliverWebhook({ url: `${base}/gone`, body, headers: headers(), allow })).toMatchObject({ outcome: 'disable', status: 410 });
    expect(await deliverWebhook({ url: `${base}/busy`, body, headers: headers(), allow })).toMatchObject({ outcome: 'retry', status: 429, retry_after: '120' });
    expect(await deliverWebhook({ url: `${base}/boom`, body, headers: headers(), allow })).toMatchObject({ outcome: 'retry', status: 500 });
    const before = verified.length;
    expect(await deliverWebhook({ url: `${base}/moved`, body, headers: headers(), allow })).toMatchObject({ outcome: 'retry', status: 302 });
    expect(verified).toHaveLength(before);
  });

  it('gives up on a receiver that does not answer in time, and on a refused connection', async () => {
    const slow = await deliverWebhook({ url: `${base}/hang`, body, headers: headers(), allow, timeoutMs: 300 });
    expect(slow).toMatchObject({ outcome: 'retry', status: null, error: 'no answer within 300 ms' });
    expect(slow.duration_ms).toBeLessThan(2000);
    expect(await deliverWebhook({ url: 'http://127.0.0.1:1/x', body, headers: headers(), allow })).toMatchObject({ outcome: 'retry', error: expect.stringContaining('ECONNREFUSED') });
  });

  it('refuses non-allowlisted private addresses before connecting, including a name rebound to loopback', async () => {
    expect(await deliverWebhook({ url: 'http://127.0.0.2:9/x', body, headers: headers(), allow })).toMatchObject({ outcome: 'refused' });
    const rebound = await deliverWebhook({
      url: `http://hooks.example.com:${new URL(base).port}/ok`,
      body,
      headers: headers(),
      allow: parseAllowlist([]),
      resolve: (_host, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]),
    });
    expect(rebound).toMatchObject({ outcome: 'refused', reason: 'hooks.example.com resolves to 127.0.0.1, a loopback address' });
  });
});
