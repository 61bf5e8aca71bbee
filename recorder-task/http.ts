/** The recorder's own small HTTP server: `/health` and `/metrics` (Prometheus text). */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function serveRecorderHttp(options: {
  host: string;
  port: number;
  health: () => { ok: boolean; body: Record<string, unknown> };
  metrics: () => string;
}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      const { ok, body } = options.health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(options.metrics());
    } else {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'https://capstan.dev/problems/not-found', title: 'Not found', status: 404, detail: `no route ${req.url}` }));
    }
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${options.host}:${port}` };
}
